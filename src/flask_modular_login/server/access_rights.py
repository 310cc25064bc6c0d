"""Who may do what with invites and memberships: the object-level checks of the views.

No Flask here: each function reads the :class:`AccessStore` and asks the core
(:func:`may_remove`, :func:`may_renege`, :func:`redeem`) for the decision.
Everything a view shows or changes goes through these, so a crafted id can
never reach an object outside the user's rights (SECURITY.md 10): deny unless
a rule says yes.

A user's *holdings* are their membership rows plus the roots one of their
identities owns (held with :meth:`Grant.owner`).
"""

from __future__ import annotations

from ..core import invitations as rules
from ..core.invitations import Grant, Membership
from ..store.access import AccessStore, Invite


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
