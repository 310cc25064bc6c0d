"""Access use cases: create an invite, redeem, remove, renege; and who may do what.

No Flask here. The functions read the :class:`AccessStore` and ask the core
(:func:`may_remove`, :func:`may_renege`, :func:`redeem`) for the decision;
:class:`AccessService` runs the changes: each writes its rows and its event in
one store transaction, then tells the notifier. Everything a view shows or
changes goes through these, so a crafted id can never reach an object outside
the user's rights (no IDOR): deny unless a rule says yes.

A user's *holdings* are their membership rows plus the roots one of their
identities owns (held with :meth:`Grant.owner`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .. import signals
from ..cache import Cache, NullCache
from ..cache.memberships import CachedGrants
from ..core import invitations as rules
from ..core.errors import LoginError
from ..core.groups import GroupPath, Held
from ..core.invitations import Grant, InviteRequest, InviteTerms, Membership
from ..store.access import AccessStore, Invite, IssuedInvite, code_id
from ..store.audit import AuditEntry
from .notifier import Notifier


class NotYours(LoginError, LookupError):
    """No such object within the user's rights (the same answer as "does not exist")."""

    code = "not_found"


class AlreadyRevoked(LoginError, RuntimeError):
    code = "already_revoked"


def holdings(access: AccessStore, user_id: str) -> list[Membership]:
    owned = [Membership(user_id, path, Grant.owner()) for path in access.owned_groups(user_id)]
    return owned + access.memberships_of(user_id)


def invitable(access: AccessStore, user_id: str, now: float) -> list[Membership]:
    """The user's groups they may invite to now (and below), each with the grant that rules it.

    The grant is the one redemption will use: the nearest holding at or above the group.
    """
    found: dict[str, Membership] = {}
    for held in holdings(access, user_id):
        ruling = access.holding(user_id, held.group, now)
        if ruling is not None and ruling.grant.can_invite:
            found.setdefault(str(ruling.group), ruling)
    return [found[key] for key in sorted(found)]


def may_remove(mine: list[Membership], target: Membership, now: float) -> bool:
    """Whether any of ``mine`` (one user's holdings) may remove ``target``."""
    return any(rules.may_remove(held, target, now) for held in mine)


def removable(access: AccessStore, user_id: str, now: float) -> list[Membership]:
    """Every membership the user may end: their own (leave) and those their rights cover."""
    mine = holdings(access, user_id)
    found: dict[tuple[str, str], Membership] = {}
    for held in mine:
        for target in access.members(held.group, subtree=True):
            key = (str(target.group), target.user_id)
            if key not in found and may_remove(mine, target, now):
                found[key] = target
    return [found[key] for key in sorted(found)]


def may_renege(access: AccessStore, user_id: str, mine: list[Membership], invite: Invite,
               now: float) -> bool:
    """Whether the user (holding ``mine``) may revoke ``invite``: its inviter, or someone
    who may remove the inviter's membership."""
    terms = invite.terms
    if terms.inviter_id == user_id:
        return True
    inviter = access.holding(terms.inviter_id, terms.group, now)
    return inviter is not None and any(
        rules.may_renege(user_id, terms, now, remover=held, inviter=inviter) for held in mine)


def revocable(access: AccessStore, user_id: str, now: float) -> list[Invite]:
    """The live (not yet revoked) invites the user may revoke, oldest first."""
    mine = holdings(access, user_id)
    found = {invite.id: invite for invite in access.invites_by(user_id)}
    for held in mine:
        if held.grant.removal is rules.Removal.NONE or not held.grant.active(now):
            continue
        for invite in access.invites_for(held.group, subtree=True):
            if invite.id not in found and may_renege(access, user_id, mine, invite, now):
                found[invite.id] = invite
    live = [invite for invite in found.values() if not invite.state.revoked]
    return sorted(live, key=lambda invite: (invite.created_at, invite.id))


def preview(access: AccessStore, invite: Invite, user_id: str, now: float) -> Grant:
    """The grant redeeming ``invite`` would give the user now; raises the RedeemError it would.

    Only a preview: :meth:`AccessStore.redeem` decides again, atomically.
    """
    terms = invite.terms
    inviter = access.holding(terms.inviter_id, terms.group, now)
    return rules.redeem(terms, invite.state, access.redeemer(invite, user_id, now), now,
                        inviter=inviter.grant if inviter else None)


class AccessService:
    """The access use cases for one user at a time (``user_id`` is who asks)."""

    def __init__(self, access: AccessStore, notifier: Notifier,
                 clock: Callable[[], int], cache: Cache | None = None) -> None:
        self.store = access
        self._notifier = notifier
        self._now = clock
        self._grants = CachedGrants(access, cache or NullCache())

    def grants(self, user_id: str, paths: Sequence[GroupPath],
               now: float) -> dict[GroupPath, Held | None]:
        """The store's :meth:`~..store.access.AccessStore.grants`, through the shared cache
        (answers cached per user, forgotten by every change below once it committed)."""
        return self._grants.grants(user_id, paths, now)

    def changed(self, user_id: str) -> None:
        """Forget the cached answers about ``user_id``: call after a change of their
        memberships committed that did not go through this service."""
        self._grants.forget(user_id)

    def create_invite(self, user_id: str, group: GroupPath,
                      request: Callable[[int, Grant], InviteRequest], ip: str | None = None
                      ) -> tuple[IssuedInvite, InviteTerms]:
        """Check what ``request(now, your grant)`` asks against the user's grant on
        ``group`` and store it; raises the core's Escalation or BadValue (nothing stored)."""
        now = self._now()
        held = self.store.holding(user_id, group, now)
        if held is None:
            raise rules.OutsideGroup("you have no access to this group", field="group",
                                     requested=str(group))
        terms = rules.validate_invite(user_id, held.grant, held.group, request(now, held.grant),
                                      now)
        audit = AuditEntry("invite_created", user_id, user_id, {"group": str(terms.group)}, ip)
        issued = self.store.create_invite(terms, now, audit=audit)
        signals.send(signals.invite_created, self, user_id=user_id, group=str(terms.group),
                     invite_id=issued.id, ip=ip)
        return issued, terms

    def redeem(self, code: str, user_id: str, ip: str | None = None) -> Membership:
        return self.redeem_by_id(code_id(code), user_id, ip)

    def redeem_by_id(self, invite_id: str, user_id: str, ip: str | None = None) -> Membership:
        audit = AuditEntry("invite_redeemed", user_id, user_id, {}, ip)
        joined = self.store.redeem_by_id(invite_id, user_id, self._now(), audit=audit)
        signals.send(signals.invite_redeemed, self, user_id=user_id, group=str(joined.group),
                     invite_id=invite_id, ip=ip)
        return self._joined(joined)

    def add_member(self, actor_id: str | None, group: GroupPath, user_id: str,
                   grant: Grant | None = None, ip: str | None = None) -> None:
        """Give ``user_id`` ``grant`` on ``group`` directly (no invite), for a trusted caller
        (an operator: ``actor_id`` None, or a client app's grant); checks no rights."""
        audit = AuditEntry("member_added", user_id, actor_id, {"group": str(group)}, ip)
        self.store.add_member(group, user_id, self._now(), grant, audit=audit)
        self.changed(user_id)
        signals.send(signals.member_added, self, user_id=user_id, actor_id=actor_id,
                     group=str(group), ip=ip)
        self._notifier.notify()

    def preview(self, invite: Invite, user_id: str) -> Grant:
        return preview(self.store, invite, user_id, self._now())

    def drop_member(self, actor_id: str | None, group: GroupPath, user_id: str,
                    ip: str | None = None) -> bool:
        """End ``user_id``'s membership of ``group`` for a trusted caller (an operator, a
        client app); checks no rights. Whether there was one."""
        audit = AuditEntry("member_removed", user_id, actor_id, {"group": str(group)}, ip)
        if not self.store.remove_member(group, user_id, self._now(), audit=audit):
            return False
        self.changed(user_id)
        signals.send(signals.member_removed, self, user_id=user_id, actor_id=actor_id,
                     group=str(group), ip=ip)
        self._notifier.notify()
        return True

    def remove(self, user_id: str, group: GroupPath, target_id: str,
               ip: str | None = None) -> None:
        """End ``target_id``'s membership of ``group`` if the user's rights cover it (their
        own: leave); raises :class:`NotYours` otherwise."""
        now = self._now()
        target = self.store.membership(target_id, group)
        if target is None or not may_remove(holdings(self.store, user_id), target, now):
            raise NotYours("no such membership that you may remove")
        audit = AuditEntry("member_removed", target_id, user_id, {"group": str(group)}, ip)
        if self.store.remove_member(group, target_id, now, audit=audit):
            self.changed(target_id)
            signals.send(signals.member_removed, self, user_id=target_id, actor_id=user_id,
                         group=str(group), ip=ip)
            self._notifier.notify()

    def renege(self, user_id: str, invite_id: str, ip: str | None = None) -> None:
        """Revoke an invite the user may revoke; raises :class:`NotYours` or
        :class:`AlreadyRevoked`."""
        now = self._now()
        invite = self.store.invite_by_id(invite_id)
        mine = holdings(self.store, user_id)
        if invite is None or not may_renege(self.store, user_id, mine, invite, now):
            raise NotYours("no such invite that you may revoke")
        if not self.revoke(user_id, invite, ip):
            raise AlreadyRevoked("this invite was already revoked")

    def revoke(self, actor_id: str | None, invite: Invite, ip: str | None = None) -> bool:
        """Revoke ``invite`` for a caller whose rights were checked (or an operator:
        ``actor_id`` None); whether it was still live."""
        inviter, group = invite.terms.inviter_id, str(invite.terms.group)
        audit = AuditEntry("invite_reneged", inviter, actor_id,
                           {"group": group, "invite_id": invite.id}, ip)
        if not self.store.revoke_invite(invite.id, self._now(), audit=audit):
            return False
        signals.send(signals.invite_reneged, self, user_id=inviter, actor_id=actor_id,
                     group=group, invite_id=invite.id, ip=ip)
        return True

    def _joined(self, joined: Membership) -> Membership:
        self.changed(joined.user_id)
        self._notifier.notify()
        return joined
