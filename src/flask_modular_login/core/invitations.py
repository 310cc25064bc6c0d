"""Invitation limits, validation and redemption rules. Pure: the caller passes ``now``.

Times are seconds since the epoch (int or float, like ``core.leases``); an
expiry of None means "never". Access ends when ``now >= expires``.

A membership carries a :class:`Grant`:

* ``expires``  when access ends (None: never).
* ``spots``    how many more people this member may admit (each redemption of
  one of their invites spends one); None: unlimited.
* ``depth``    how many more times access may be passed on: 0 cannot invite,
  1 may invite people who cannot invite, ...; None: unlimited.
* ``removal``  :class:`Removal` ``NONE < INVITED < ANY_BELOW`` (see :func:`may_remove`).
* ``deplete``  spots spent by this member's invitees also count against this
  member (and, through members who deplete, further up: :func:`spot_payers`).

The invariant (SECURITY 16): no invitee ever gets more than the inviter holds.
:func:`validate_invite` rejects a request that asks for more; :func:`redeem`
additionally clamps every dimension to the inviter's grant *at redemption*, so
stale terms or an inviter whose access shrank cannot escalate either:

* ``expires``: invitee <= inviter. A relative ``access_for`` becomes
  ``now + access_for`` at acceptance and is silently capped by the inviter's
  expiry; absolute values above the inviter's expiry are rejected.
* ``spots``: invitee <= inviter; unlimited (None) only from unlimited.
* ``depth``: invitee < inviter (strictly); unlimited only from unlimited.
* ``removal``: invitee <= inviter.
* ``deplete``: an inviter who depletes only makes invitees who deplete, so
  the inviter's spots bound every admission in their invite subtree.

Redemption never combines two grants (SECURITY 16 over time):

* a person redeems an invite at most once (:attr:`Redeemer.redeemed`), whatever
  became of the membership it gave;
* a person holds one membership per group, with one inviter chain: an invite
  to a group the redeemer is already an active member of is refused with
  :class:`AlreadyMember`, however much better it is. Replacing the membership
  would re-parent it, handing the new inviter's chain removal rights over
  someone they did not invite; to take a better invite, leave first;
* an expired membership counts as none: the caller deletes it and writes the
  new grant alone, never a mix of the two;
* an active grant inherited from a group above that already covers what the
  invite gives is refused with :class:`AlreadyMember` too (nothing to gain).

Contract: :func:`validate_invite` turns an :class:`InviteRequest` into the
:class:`InviteTerms` to store; :func:`redeem` returns the :class:`Grant` the
redeemer receives, after which the caller must, in one transaction: record the
redemption (unique per invite and person), delete the redeemer's lapsed
membership of the group if :attr:`Redeemer.member` is set, insert the new
membership with the chain :func:`invite_chain`, count the use and spend one
spot of each of :func:`spot_payers` (conditionally: a payer with no spot left
aborts). :func:`may_remove` and
:func:`may_renege` are the object-level checks (IDOR) for the remove and
renege views: deny unless they say True.

Errors (each with a stable ``code`` and its evidence in ``field``,
``requested``, ``limit``)::

    LoginError (core.errors)
    └── InviteError          invite_error
        ├── BadValue         bad_value        malformed request, grant or state
        ├── Escalation       escalation       asks for more than the inviter holds
        │   ├── ExceedsDepth    exceeds_depth
        │   ├── ExceedsSpots    exceeds_spots
        │   ├── ExceedsExpiry   exceeds_expiry
        │   ├── ExceedsRemoval  exceeds_removal
        │   └── OutsideGroup    outside_group
        └── RedeemError      redeem_error     the invite cannot be redeemed
            ├── Expired         expired        past acceptance or access expiry
            ├── UsedUp          used_up        no uses or inviter spots left
            ├── Revoked         revoked        reneged, or the inviter lost the right
            ├── AlreadyMember   already_member redeemed before, a member already, or covered
            └── SelfInvite      self_invite    the inviter redeeming their own invite
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import TypeVar

from .errors import LoginError
from .groups import GroupPath

__all__ = [
    "Removal",
    "Grant",
    "InviteRequest",
    "InviteTerms",
    "InviteState",
    "Membership",
    "Redeemer",
    "InviteError",
    "BadValue",
    "Escalation",
    "ExceedsDepth",
    "ExceedsSpots",
    "ExceedsExpiry",
    "ExceedsRemoval",
    "OutsideGroup",
    "RedeemError",
    "Expired",
    "UsedUp",
    "Revoked",
    "AlreadyMember",
    "SelfInvite",
    "validate_invite",
    "redeem",
    "invite_chain",
    "spot_payers",
    "spend_spot",
    "may_remove",
    "may_renege",
]


class InviteError(LoginError):
    """Base of the invitation errors; ``field``/``requested``/``limit`` are the evidence."""

    code = "invite_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        requested: object = None,
        limit: object = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.requested = requested
        self.limit = limit


class BadValue(InviteError):
    code = "bad_value"


class Escalation(InviteError):
    code = "escalation"


class ExceedsDepth(Escalation):
    code = "exceeds_depth"


class ExceedsSpots(Escalation):
    code = "exceeds_spots"


class ExceedsExpiry(Escalation):
    code = "exceeds_expiry"


class ExceedsRemoval(Escalation):
    code = "exceeds_removal"


class OutsideGroup(Escalation):
    code = "outside_group"


class RedeemError(InviteError):
    code = "redeem_error"


class Expired(RedeemError):
    code = "expired"


class UsedUp(RedeemError):
    code = "used_up"


class Revoked(RedeemError):
    code = "revoked"


class AlreadyMember(RedeemError):
    code = "already_member"


class SelfInvite(RedeemError):
    code = "self_invite"


class Removal(IntEnum):
    """Whom a member may remove: nobody, those they invited, anyone below them."""

    NONE = 0
    INVITED = 1
    ANY_BELOW = 2


_N = TypeVar("_N", int, float)

# -- value checks --------------------------------------------------------------------------


def _count(name: str, value: object, *, unlimited: bool = True, least: int = 0) -> None:
    if value is None and unlimited:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise BadValue(f"{name} must be an integer >= {least}", field=name, requested=value)


def _instant(name: str, value: object, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadValue(f"{name} must be a finite number of seconds", field=name, requested=value)


def _flag(name: str, value: object, *, optional: bool = False) -> None:
    if not (isinstance(value, bool) or (optional and value is None)):
        raise BadValue(f"{name} must be true or false", field=name, requested=value)


def _removal(value: object) -> None:
    if not isinstance(value, Removal):
        raise BadValue("removal must be a Removal", field="removal", requested=value)


def _limit(value: float | None) -> float:
    """None (unlimited / never) as infinity, for comparisons."""
    return math.inf if value is None else value


def _least(*values: _N | None) -> _N | None:
    """The smallest of ``values``, None (unlimited / never) counting as infinity."""
    finite = [v for v in values if v is not None]
    return min(finite) if finite else None


# -- grants ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """What one membership carries (see the module docstring for each field)."""

    expires: float | None = None
    spots: int | None = 0
    depth: int | None = 0
    removal: Removal = Removal.NONE
    deplete: bool = False

    def __post_init__(self) -> None:
        _instant("expires", self.expires)
        _count("spots", self.spots)
        _count("depth", self.depth)
        _removal(self.removal)
        _flag("deplete", self.deplete)

    @classmethod
    def owner(cls) -> Grant:
        """Everything, forever: the grant of a group's owner."""
        return cls(expires=None, spots=None, depth=None, removal=Removal.ANY_BELOW)

    def active(self, now: float) -> bool:
        return self.expires is None or now < self.expires

    @property
    def can_invite(self) -> bool:
        return _limit(self.depth) >= 1 and _limit(self.spots) >= 1

    def covers(self, other: Grant) -> bool:
        """Whether this grant is at least ``other`` in every dimension."""
        return (
            _limit(self.expires) >= _limit(other.expires)
            and _limit(self.spots) >= _limit(other.spots)
            and _limit(self.depth) >= _limit(other.depth)
            and self.removal >= other.removal
            and (other.deplete or not self.deplete)
        )


def spend_spot(grant: Grant) -> Grant:
    """``grant`` after admitting one person; raises :class:`UsedUp` with no spot left."""
    if grant.spots is None:
        return grant
    if grant.spots < 1:
        raise UsedUp("no spots left", field="spots", requested=1, limit=grant.spots)
    return replace(grant, spots=grant.spots - 1)


def spot_payers(chain: Sequence[Grant]) -> int:
    """How many grants of ``chain`` (the inviter first, then their inviter, ...) pay one spot.

    The inviter always pays; each next one pays too while it depletes (its
    invitees' spending counts against it), stopping at the first that does not.
    """
    payers = min(len(chain), 1)
    while payers < len(chain) and chain[payers].deplete:
        payers += 1
    return payers


# -- invites ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InviteRequest:
    """What an inviter asks for (parsed from the form or JSON; redirect checked elsewhere).

    ``accept_by``: the invite cannot be redeemed at or after it. Access ends at
    ``access_expires`` (absolute) or ``access_for`` seconds after acceptance
    (relative; at most one of the two), or by default with the inviter's
    access. ``deplete`` None inherits the inviter's.
    """

    group: GroupPath
    accept_by: float
    accepts: int | None = 1
    spots: int | None = 0
    depth: int | None = 0
    access_expires: float | None = None
    access_for: float | None = None
    removal: Removal = Removal.NONE
    deplete: bool | None = None
    redirect: str | None = None
    confirm: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.group, GroupPath):
            raise BadValue("group must be a GroupPath", field="group", requested=self.group)
        _instant("accept_by", self.accept_by, optional=False)
        _count("accepts", self.accepts, least=1)
        _count("spots", self.spots)
        _count("depth", self.depth)
        _instant("access_expires", self.access_expires)
        _instant("access_for", self.access_for)
        _removal(self.removal)
        _flag("deplete", self.deplete, optional=True)
        _flag("confirm", self.confirm)
        if not (self.redirect is None or isinstance(self.redirect, str)):
            raise BadValue("redirect must be a string", field="redirect", requested=self.redirect)
        if self.access_expires is not None and self.access_for is not None:
            raise BadValue("give access_expires or access_for, not both", field="access_for")
        if self.access_for is not None and self.access_for <= 0:
            raise BadValue("access_for must be positive", field="access_for")


@dataclass(frozen=True)
class InviteTerms:
    """A validated invite, as stored. ``access_expires`` is the absolute cap on access."""

    inviter_id: str
    group: GroupPath
    accept_by: float
    accepts: int | None
    spots: int | None
    depth: int | None
    access_expires: float | None
    access_for: float | None
    removal: Removal
    deplete: bool
    redirect: str | None = None
    confirm: bool = False

    def __post_init__(self) -> None:
        _instant("accept_by", self.accept_by, optional=False)
        _count("accepts", self.accepts, least=1)
        _count("spots", self.spots)
        _count("depth", self.depth)
        _instant("access_expires", self.access_expires)
        _instant("access_for", self.access_for)
        _removal(self.removal)
        _flag("deplete", self.deplete)


@dataclass(frozen=True)
class InviteState:
    """The mutable part of a stored invite, read in the redeeming transaction."""

    uses: int = 0
    revoked: bool = False

    def __post_init__(self) -> None:
        _count("uses", self.uses, unlimited=False)
        _flag("revoked", self.revoked)


@dataclass(frozen=True)
class Membership:
    """One membership, for the removal checks. ``inviters``: direct inviter first, then
    theirs, up the invite chain; empty when the member was added directly.
    """

    user_id: str
    group: GroupPath
    grant: Grant
    inviters: tuple[str, ...] = ()


def validate_invite(
    inviter_id: str, inviter: Grant, inviter_group: GroupPath, request: InviteRequest, now: float
) -> InviteTerms:
    """The terms to store for ``request`` by the holder of ``inviter`` on ``inviter_group``.

    Raises a :class:`BadValue` or an :class:`Escalation` (nothing to store then).
    """
    if not inviter_group.contains(request.group):
        raise OutsideGroup(
            "the invite's group is not yours or below it",
            field="group",
            requested=str(request.group),
            limit=str(inviter_group),
        )
    _check_times(inviter, request, now)
    _check_depth(inviter, request)
    _check_spots(inviter, request)
    if request.removal > inviter.removal:
        raise ExceedsRemoval(
            "you cannot grant stronger removal rights than yours",
            field="removal",
            requested=request.removal.name,
            limit=inviter.removal.name,
        )
    return _terms(inviter_id, inviter, request)


def _check_times(inviter: Grant, request: InviteRequest, now: float) -> None:
    if not inviter.active(now):
        raise ExceedsExpiry("your access has expired", field="expires", limit=inviter.expires)
    if request.accept_by <= now:
        raise BadValue("accept_by is in the past", field="accept_by", requested=request.accept_by)
    if request.access_expires is not None and request.access_expires <= now:
        raise BadValue("access_expires is in the past", field="access_expires")
    for name in ("accept_by", "access_expires"):  # access_expires None: as long as the inviter
        value = getattr(request, name)
        if value is not None and value > _limit(inviter.expires):
            raise ExceedsExpiry(
                f"{name} is later than your own access",
                field=name,
                requested=value,
                limit=inviter.expires,
            )


def _check_depth(inviter: Grant, request: InviteRequest) -> None:
    if inviter.depth is None:
        return
    if request.depth is None or request.depth >= inviter.depth:
        raise ExceedsDepth(
            "invitees' depth must be below yours",
            field="depth",
            requested=request.depth,
            limit=inviter.depth - 1,
        )


def _check_spots(inviter: Grant, request: InviteRequest) -> None:
    for name in ("accepts", "spots"):
        value = getattr(request, name)
        if _limit(value) > _limit(inviter.spots):
            raise ExceedsSpots(
                f"{name} is more than your spots",
                field=name,
                requested=value,
                limit=inviter.spots,
            )


def _terms(inviter_id: str, inviter: Grant, request: InviteRequest) -> InviteTerms:
    return InviteTerms(
        inviter_id=inviter_id,
        group=request.group,
        accept_by=request.accept_by,
        accepts=request.accepts,
        spots=request.spots,
        depth=request.depth,
        access_expires=_least(request.access_expires, inviter.expires),
        access_for=request.access_for,
        removal=request.removal,
        deplete=inviter.deplete or request.deplete is True,
        redirect=request.redirect,
        confirm=request.confirm,
    )


@dataclass(frozen=True)
class Redeemer:
    """The person redeeming an invite, as found in the redeeming transaction.

    ``redeemed``: they redeemed this invite before (whatever became of it).
    ``member``: their membership stored on the invite's own group, active or lapsed.
    ``nearest``: their nearest *active* grant at or above the group (an owner's
    :meth:`Grant.owner`), None if they may not enter it.
    """

    user_id: str
    redeemed: bool = False
    member: Grant | None = None
    nearest: Grant | None = None


def redeem(
    terms: InviteTerms,
    state: InviteState,
    redeemer: Redeemer,
    now: float,
    *,
    inviter: Grant | None,
) -> Grant:
    """The grant ``redeemer`` receives by redeeming the invite at ``now``.

    ``inviter``: the inviter's current grant covering ``terms.group`` (None if
    they lost it). Raises a :class:`RedeemError`. The result is the invite's
    terms clamped to ``inviter``, never combined with another grant, so it never
    exceeds ``inviter`` in any dimension.
    """
    if redeemer.redeemed:  # first: a second try says so, whatever became of the invite
        raise AlreadyMember("you already joined through this invite")
    live = _check_redeemable(terms, state, redeemer.user_id, now, inviter)
    _check_not_member(redeemer, now)
    grant = _clamped(terms, live, now)
    if not grant.active(now):
        raise Expired("the access this invite grants has already ended", field="expires")
    nearest = redeemer.nearest
    if nearest is not None and nearest.active(now) and nearest.covers(grant):
        raise AlreadyMember("you already have this access or more")
    return grant


def invite_chain(inviter: Membership) -> tuple[str, ...]:
    """The inviter chain of whoever joins through an invite of ``inviter``'s."""
    return (inviter.user_id, *inviter.inviters)


def _check_not_member(redeemer: Redeemer, now: float) -> None:
    if redeemer.member is not None and redeemer.member.active(now):
        raise AlreadyMember(
            "you are already a member of this group; leave it first to join through this invite"
        )


def _check_redeemable(
    terms: InviteTerms, state: InviteState, redeemer_id: str, now: float, inviter: Grant | None
) -> Grant:
    """The inviter's grant, if the invite may be redeemed at all; raises otherwise."""
    if state.revoked or inviter is None or _limit(inviter.depth) < 1:
        raise Revoked("this invite was revoked")
    if now >= terms.accept_by or not inviter.active(now):
        raise Expired("this invite has expired", field="accept_by", limit=terms.accept_by)
    if _limit(state.uses) >= _limit(terms.accepts):
        raise UsedUp("this invite has been used up", field="accepts", limit=terms.accepts)
    if _limit(inviter.spots) < 1:
        raise UsedUp("the inviter has no spots left", field="spots", limit=inviter.spots)
    if redeemer_id == terms.inviter_id:
        raise SelfInvite("you cannot redeem your own invite")
    return inviter


def _clamped(terms: InviteTerms, inviter: Grant, now: float) -> Grant:
    relative = None if terms.access_for is None else now + terms.access_for
    return Grant(
        expires=_least(terms.access_expires, relative, inviter.expires),
        spots=_least(terms.spots, inviter.spots),
        depth=_below(terms.depth, inviter.depth),
        removal=min(terms.removal, inviter.removal),
        deplete=terms.deplete or inviter.deplete,
    )


def _below(depth: int | None, inviter_depth: int | None) -> int | None:
    """``depth``, lowered to less than ``inviter_depth`` (>= 1 for a live inviter)."""
    if inviter_depth is None:
        return depth
    return inviter_depth - 1 if depth is None else min(depth, inviter_depth - 1)


# -- removal and renege ----------------------------------------------------------------------


def may_remove(remover: Membership, target: Membership, now: float) -> bool:
    """Whether ``remover`` may end ``target``'s membership.

    Anyone may leave (remove their own membership). Otherwise the remover's
    access must be active and ``target.group`` must be the remover's group or
    below it; then ``INVITED`` allows removing those the remover invited
    directly, and ``ANY_BELOW`` anyone in a strict subgroup or anyone further
    down the remover's invite chain. Peers in the remover's own group whom the
    remover's chain did not invite stay out of reach.
    """
    if remover.user_id == target.user_id:
        return True
    if not remover.grant.active(now) or not remover.group.contains(target.group):
        return False
    if remover.grant.removal is Removal.INVITED:
        return target.inviters[:1] == (remover.user_id,)
    if remover.grant.removal is Removal.ANY_BELOW:
        return target.group != remover.group or remover.user_id in target.inviters
    return False


def may_renege(
    user_id: str,
    terms: InviteTerms,
    now: float,
    *,
    remover: Membership | None = None,
    inviter: Membership | None = None,
) -> bool:
    """Whether ``user_id`` may revoke the invite with ``terms``.

    The inviter always may. Anyone else only if ``remover`` (their membership)
    may remove ``inviter`` (the inviter's membership) under :func:`may_remove`.
    """
    if user_id == terms.inviter_id:
        return True
    if remover is None or inviter is None:
        return False
    if remover.user_id != user_id or inviter.user_id != terms.inviter_id:
        return False
    return may_remove(remover, inviter, now)
