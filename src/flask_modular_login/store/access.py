"""Access groups, memberships and invites.

Groups are keyed by their canonical path string (``"root/a/b"``). A membership
check is one indexed query on ``(user_id, group_path IN <ancestors>)`` plus the
owners of those groups: its cost grows with the depth of the asked paths, not
with the number of groups or members (a materialized-path design).

Owners are identities ``(provider, subject)``, so a group can be owned by
someone who has never logged in; an owner holds :meth:`Grant.owner` on the group.

Invite codes are 192-bit CSPRNG tokens; only their SHA-256 is stored (the
hash doubles as the invite's non-secret id). Short codes (8 characters, about
40 bits) are stored hashed too and must only be looked up behind a rate limit.

Every change of a membership appends an event to the log (:mod:`.events`), which
client caches follow to forget what they hold for that user.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BindParameter,
    Connection,
    Float,
    and_,
    bindparam,
    cast,
    delete,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from ..core import invitations as rules
from ..core.errors import LoginError
from ..core.groups import GroupPath, Held
from ..core.invitations import Grant, InviteState, InviteTerms, Membership, Removal
from . import events
from .audit import AuditEntry, record
from .tables import (
    access_groups,
    group_owners,
    identities,
    invites,
    memberships,
    redemptions,
)

if TYPE_CHECKING:
    from .database import Store

SHORT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_LENGTH = 8


class InviteNotFound(LoginError, LookupError):
    """No invite has this code (or it was deleted)."""

    code = "not_found"


@dataclass(frozen=True)
class Invite:
    """A stored invite. ``id`` is the SHA-256 of its code: safe to show, useless to redeem."""

    id: str
    terms: InviteTerms
    state: InviteState
    created_at: int


@dataclass(frozen=True)
class IssuedInvite:
    """A new invite's secrets, shown once to the inviter: the code and the short code."""

    id: str
    code: str
    short_code: str


def code_id(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _short_id(short_code: str) -> str:
    return hashlib.sha256(b"short:" + short_code.strip().upper().encode()).hexdigest()


class AccessStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    # ------------------------------------------------------------ groups

    def ensure_group(self, path: GroupPath, now: int,
                     owner: tuple[str, str] | None = None) -> bool:
        """Make ``path`` and its ancestors exist; idempotent and race-safe.

        ``owner`` (provider, subject) becomes the owner of the root if the root has
        none yet: the first claim wins, and a later one naming another identity
        changes nothing. Returns whether ``owner`` owns the root afterwards (True
        when no owner is given).
        """
        with self._store.write() as conn:
            _insert_ignore(conn, access_groups, [
                {"path": str(p), "root": path.root,
                 "parent": str(p.parent) if p.parent else None, "created_at": now}
                for p in path.ancestors()])
            return owner is None or _claim(conn, path.ancestors()[0], owner)

    def owners(self, path: GroupPath) -> list[tuple[str, str]]:
        with self._store.read() as conn:
            rows = conn.execute(select(group_owners.c.provider, group_owners.c.subject)
                                .where(group_owners.c.group_path == str(path)))
            return [(row.provider, row.subject) for row in rows]

    # ------------------------------------------------------------ memberships

    def memberships(self, user_id: str, paths: Sequence[GroupPath],
                    now: float) -> dict[GroupPath, GroupPath | None]:
        """For each path, the nearest group at or above it the user may enter (the oracle).

        One query for all the paths of an expression.
        """
        return {path: held.group if held else None
                for path, held in self.grants(user_id, paths, now).items()}

    def grants(self, user_id: str, paths: Sequence[GroupPath],
               now: float) -> dict[GroupPath, Held | None]:
        """:meth:`memberships` with how long each answer stands: for each path, the nearest
        group at or above it the user may enter and until when, or None. One query.

        A cache may keep a :class:`Held` until its ``until``; what changes sooner
        (added, removed, joined) is announced in the event log.
        """
        chains = {path: _ancestor_keys(path) for path in paths}
        wanted = {key for chain in chains.values() for key in chain}
        with self._store.read() as conn:
            held = _held_paths(conn, user_id, wanted, now)
        return {path: _nearest(path, chain, held) for path, chain in chains.items()}

    def holding(self, user_id: str, path: GroupPath, now: float) -> Membership | None:
        """The user's nearest active membership at or above ``path`` (owners included)."""
        with self._store.read() as conn:
            return _holding(conn, user_id, path, now)

    def add_member(self, path: GroupPath, user_id: str, now: int, grant: Grant | None = None,
                   inviters: Sequence[str] = (), audit: AuditEntry | None = None) -> None:
        """Give ``user_id`` ``grant`` (default: access only) on ``path``, replacing any before."""
        member = Membership(user_id, path, grant or Grant(), tuple(inviters))
        with self._store.write() as conn:
            _delete_membership(conn, user_id, path)
            _insert_membership(conn, member, None, now)
            _event(conn, user_id, path, "added", now)
            if audit is not None:
                record(conn, audit, now)

    def remove_member(self, path: GroupPath, user_id: str, now: int,
                      audit: AuditEntry | None = None) -> bool:
        with self._store.write() as conn:
            removed = _delete_membership(conn, user_id, path)
            if removed:
                _event(conn, user_id, path, "removed", now)
                if audit is not None:
                    record(conn, audit, now)
            return bool(removed)

    def membership(self, user_id: str, path: GroupPath) -> Membership | None:
        """The membership stored exactly on ``path`` (not inherited), if any."""
        with self._store.read() as conn:
            row = conn.execute(select(memberships).where(
                memberships.c.user_id == user_id,
                memberships.c.group_path == str(path))).first()
        return _membership(row) if row else None

    def members(self, path: GroupPath, subtree: bool = False) -> list[Membership]:
        """Memberships stored on ``path`` (and, with ``subtree``, on groups below it)."""
        condition = memberships.c.group_path == str(path)
        if subtree:
            condition = or_(condition, memberships.c.group_path.startswith(f"{path}/",
                                                                             autoescape=True))
        with self._store.read() as conn:
            rows = conn.execute(select(memberships).where(condition)
                                .order_by(memberships.c.group_path, memberships.c.created_at))
            return [_membership(row) for row in rows]

    def memberships_of(self, user_id: str) -> list[Membership]:
        with self._store.read() as conn:
            rows = conn.execute(select(memberships).where(memberships.c.user_id == user_id)
                                .order_by(memberships.c.group_path))
            return [_membership(row) for row in rows]

    # ------------------------------------------------------------ invites

    def create_invite(self, terms: InviteTerms, now: int,
                      audit: AuditEntry | None = None) -> IssuedInvite:
        """Store validated ``terms``; returns the codes, which are not stored in the clear."""
        code = secrets.token_urlsafe(24)
        short = "".join(secrets.choice(SHORT_ALPHABET) for _ in range(SHORT_LENGTH))
        invite_id = code_id(code)
        with self._store.write() as conn:
            conn.execute(insert(invites).values(
                id=invite_id, short_code=_short_id(short), inviter_id=terms.inviter_id,
                group_path=str(terms.group), accept_by=terms.accept_by, accepts=terms.accepts,
                uses=0, spots=terms.spots, depth=terms.depth,
                access_expires=terms.access_expires, access_for=terms.access_for,
                removal=int(terms.removal), deplete=terms.deplete, redirect=terms.redirect,
                confirm=terms.confirm, revoked_at=None, created_at=now))
            if audit is not None:
                record(conn, audit.with_detail(invite_id=invite_id), now)
        return IssuedInvite(invite_id, code, short)

    def invite(self, code: str) -> Invite | None:
        return self.invite_by_id(code_id(code))

    def invite_by_id(self, invite_id: str) -> Invite | None:
        with self._store.read() as conn:
            row = conn.execute(select(invites).where(invites.c.id == invite_id)).first()
        return _invite(row) if row else None

    def invite_id_for_short_code(self, short_code: str) -> str | None:
        """Callers must rate-limit this: short codes are guessable at scale."""
        with self._store.read() as conn:
            return conn.execute(select(invites.c.id).where(
                invites.c.short_code == _short_id(short_code))).scalar()

    def invites_by(self, inviter_id: str) -> list[Invite]:
        return self._invites(invites.c.inviter_id == inviter_id)

    def invites_for(self, path: GroupPath, subtree: bool = False) -> list[Invite]:
        condition = invites.c.group_path == str(path)
        if subtree:
            condition = or_(condition, invites.c.group_path.startswith(f"{path}/",
                                                                       autoescape=True))
        return self._invites(condition)

    def _invites(self, condition: Any) -> list[Invite]:
        with self._store.read() as conn:
            rows = conn.execute(select(invites).where(condition)
                                .order_by(invites.c.created_at, invites.c.id))
            return [_invite(row) for row in rows]

    def revoke_invite(self, invite_id: str, now: int, audit: AuditEntry | None = None) -> bool:
        """Renege: the invite (and any QR code or link carrying it) stops working."""
        with self._store.write() as conn:
            revoked = bool(conn.execute(update(invites).where(
                invites.c.id == invite_id, invites.c.revoked_at.is_(None))
                .values(revoked_at=now)).rowcount)
            if revoked and audit is not None:
                record(conn, audit, now)
            return revoked

    def redeem(self, code: str, user_id: str, now: int,
               audit: AuditEntry | None = None) -> Membership:
        """Join the invite's group atomically; raises :class:`InviteNotFound` or a RedeemError.

        One write transaction: read what the rules need (:func:`rules.redeem`),
        record the redemption (once per invite and person), count the use
        (conditionally), spend one spot of every payer up the invite chain
        (conditionally), replace a lapsed membership of the group, write the new
        one. Any failed condition rolls everything back, so N concurrent
        redemptions of an invite with k uses left make exactly k members, and a
        person racing themselves joins once.
        """
        return self.redeem_by_id(code_id(code), user_id, now, audit)

    def redeem_by_id(self, invite_id: str, user_id: str, now: int,
                     audit: AuditEntry | None = None) -> Membership:
        """:meth:`redeem` for an invite found by id (a rate-limited short code), not by code."""
        try:
            with self._store.write() as conn:
                joined = _redeem(conn, invite_id, user_id, now)
                if audit is not None:
                    record(conn, audit.with_detail(invite_id=invite_id,
                                                   group=str(joined.group)), now)
                return joined
        except IntegrityError:  # a concurrent redemption by the same person won the race
            raise rules.AlreadyMember("you already joined this group") from None

    # ------------------------------------------------------------ for the invitation views

    def redeemer(self, invite: Invite, user_id: str, now: float) -> rules.Redeemer:
        """What the rules know of ``user_id`` as a redeemer of ``invite`` (for a preview)."""
        with self._store.read() as conn:
            return _redeemer(conn, invite.id, user_id, invite.terms.group, now)

    def owned_groups(self, user_id: str) -> list[GroupPath]:
        """The roots owned by one of the user's identities (they hold :meth:`Grant.owner`)."""
        with self._store.read() as conn:
            rows = conn.execute(
                select(group_owners.c.group_path)
                .join(identities, and_(identities.c.provider == group_owners.c.provider,
                                       identities.c.subject == group_owners.c.subject))
                .where(identities.c.user_id == user_id)
                .order_by(group_owners.c.group_path)).scalars()
            return [GroupPath.parse(path) for path in dict.fromkeys(rows)]


# ---------------------------------------------------------------- queries


def _held_paths(conn: Connection, user_id: str, wanted: Iterable[str],
                now: float) -> dict[str, float | None]:
    """Groups among ``wanted`` the user holds now, each with the end of its access."""
    held: dict[str, float | None] = {}
    rows = conn.execute(_HELD, {"user_id": user_id, "wanted": list(wanted), "now": now})
    for path, until in rows:
        before = held.get(path, 0.0)
        held[path] = None if before is None or until is None else max(before, until)
    return held


def _held_query() -> Any:
    """Built once (compiled once, cached): the membership check is the hot query."""
    user_id: BindParameter[Any] = bindparam("user_id")
    now: BindParameter[Any] = bindparam("now")
    wanted: BindParameter[Any] = bindparam("wanted", expanding=True)
    member = select(memberships.c.group_path.label("path"),
                    memberships.c.expires.label("until")).where(
        memberships.c.user_id == user_id, memberships.c.group_path.in_(wanted),
        or_(memberships.c.expires.is_(None), memberships.c.expires > now))
    owned = (select(group_owners.c.group_path.label("path"), cast(null(), Float).label("until"))
             .join(identities, and_(identities.c.provider == group_owners.c.provider,
                                    identities.c.subject == group_owners.c.subject))
             .where(identities.c.user_id == user_id, group_owners.c.group_path.in_(wanted)))
    return union_all(member, owned)


_HELD = _held_query()


def _ancestor_keys(path: GroupPath) -> list[str]:
    """``str`` of every ancestor of ``path``, root first (without building GroupPaths)."""
    keys = [path.root]
    for segment in path.segments:
        keys.append(f"{keys[-1]}/{segment}")
    return keys


def _nearest(path: GroupPath, chain: list[str],
             held: dict[str, float | None]) -> Held | None:
    for depth in range(len(chain) - 1, -1, -1):
        if chain[depth] in held:
            return Held(GroupPath(path.root, path.segments[:depth]), held[chain[depth]])
    return None


def _claim(conn: Connection, root: GroupPath, owner: tuple[str, str]) -> bool:
    """Make ``owner`` the owner of ``root`` unless it has one; whether ``owner`` owns it."""
    conn.execute(select(access_groups.c.path).where(access_groups.c.path == str(root))
                 .with_for_update())  # PostgreSQL: one claim at a time (SQLite: BEGIN IMMEDIATE)
    current = {(row.provider, row.subject) for row in conn.execute(
        select(group_owners.c.provider, group_owners.c.subject)
        .where(group_owners.c.group_path == str(root)))}
    if not current:
        provider, subject = owner
        conn.execute(insert(group_owners).values(group_path=str(root), provider=provider,
                                                 subject=subject))
    return not current or tuple(owner) in current


def _holding(conn: Connection, user_id: str, path: GroupPath, now: float) -> Membership | None:
    wanted = [str(a) for a in path.ancestors()]
    owned = conn.execute(
        select(group_owners.c.group_path)
        .join(identities, and_(identities.c.provider == group_owners.c.provider,
                               identities.c.subject == group_owners.c.subject))
        .where(identities.c.user_id == user_id, group_owners.c.group_path.in_(wanted))
        .limit(1)).scalar()
    if owned is not None:
        return Membership(user_id, GroupPath.parse(owned), Grant.owner())
    rows = conn.execute(select(memberships).where(
        memberships.c.user_id == user_id, memberships.c.group_path.in_(wanted),
        or_(memberships.c.expires.is_(None), memberships.c.expires > now))).all()
    if not rows:
        return None
    return _membership(max(rows, key=lambda row: row.group_path.count("/")))


def _redeem(conn: Connection, invite_id: str, user_id: str, now: int) -> Membership:
    row = conn.execute(select(invites).where(invites.c.id == invite_id)).first()
    if row is None:
        raise InviteNotFound("no such invite")
    invite = _invite(row)
    terms = invite.terms
    inviter = _holding(conn, terms.inviter_id, terms.group, now)
    redeemer = _redeemer(conn, invite_id, user_id, terms.group, now)
    grant = rules.redeem(terms, invite.state, redeemer, now,
                         inviter=inviter.grant if inviter else None)
    assert inviter is not None  # noqa: S101 - rules.redeem raises Revoked otherwise
    conn.execute(insert(redemptions).values(invite_id=invite_id, user_id=user_id,
                                            redeemed_at=now))
    _count_use(conn, invite_id)
    _spend_spots(conn, inviter, now)
    if redeemer.member is not None:  # lapsed (rules.redeem refuses an active one): counts as none
        _delete_membership(conn, user_id, terms.group)
    joined = Membership(user_id, terms.group, grant, rules.invite_chain(inviter))
    _insert_membership(conn, joined, invite_id, now)
    _event(conn, user_id, terms.group, "joined", now)
    return joined


def _redeemer(conn: Connection, invite_id: str, user_id: str, group: GroupPath,
              now: float) -> rules.Redeemer:
    """What the rules need to know of ``user_id`` to judge their redemption of the invite."""
    redeemed = conn.execute(select(literal(1)).where(
        redemptions.c.invite_id == invite_id, redemptions.c.user_id == user_id)).first()
    member = conn.execute(select(memberships).where(
        memberships.c.user_id == user_id, memberships.c.group_path == str(group))).first()
    nearest = _holding(conn, user_id, group, now)
    return rules.Redeemer(user_id, redeemed=redeemed is not None,
                          member=_membership(member).grant if member else None,
                          nearest=nearest.grant if nearest else None)


def _count_use(conn: Connection, invite_id: str) -> None:
    counted = conn.execute(update(invites).where(
        invites.c.id == invite_id, invites.c.revoked_at.is_(None),
        or_(invites.c.accepts.is_(None), invites.c.uses < invites.c.accepts))
        .values(uses=invites.c.uses + 1)).rowcount
    if counted != 1:
        raise rules.UsedUp("this invite has been used up", field="accepts")


def _spend_spots(conn: Connection, inviter: Membership, now: float) -> None:
    """One spot from the inviter and from each depleting grant above them (spot_payers)."""
    chain = [inviter]
    for ancestor_id in inviter.inviters:
        if not chain[-1].grant.deplete:
            break
        holder = _holding(conn, ancestor_id, inviter.group, now)
        if holder is None:
            break
        chain.append(holder)
    for payer in chain[:rules.spot_payers([m.grant for m in chain])]:
        if payer.grant.spots is None:
            continue
        spent = conn.execute(update(memberships).where(
            memberships.c.user_id == payer.user_id,
            memberships.c.group_path == str(payer.group), memberships.c.spots >= 1)
            .values(spots=memberships.c.spots - 1)).rowcount
        if spent != 1:
            raise rules.UsedUp("no spots left to share this access", field="spots")


def _delete_membership(conn: Connection, user_id: str, path: GroupPath) -> int:
    return conn.execute(delete(memberships).where(memberships.c.user_id == user_id,
                                                  memberships.c.group_path == str(path))).rowcount


def _insert_membership(conn: Connection, member: Membership, invite_id: str | None,
                       now: int) -> None:
    grant = member.grant
    conn.execute(insert(memberships).values(
        user_id=member.user_id, group_path=str(member.group), expires=grant.expires,
        spots=grant.spots, depth=grant.depth, removal=int(grant.removal), deplete=grant.deplete,
        inviters=json.dumps(list(member.inviters)), invite_id=invite_id, created_at=now))


def announce_identity_change(conn: Connection, user_id: str, provider: str, subject: str,
                             now: int) -> None:
    """Within a link or unlink: tell client caches that ``user_id``'s owned groups changed.

    An identity may own groups (see :meth:`AccessStore.ensure_group`); linking it
    grants the user those groups, unlinking takes them away, so caches must forget
    what they hold about the user now rather than when their entries expire.
    """
    roots = conn.execute(select(group_owners.c.group_path).where(
        group_owners.c.provider == provider, group_owners.c.subject == subject)).scalars()
    for root in roots:
        _event(conn, user_id, GroupPath.parse(root), "owner", now)


def _event(conn: Connection, user_id: str, path: GroupPath, kind: str, now: int) -> None:
    events.append(conn, kind, now, user_id=user_id, group_path=str(path))


def _insert_ignore(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(conn.dialect.name)
    if dialect is None:
        for row in rows:
            exists = select(literal(1)).select_from(table).where(
                *[table.c[key] == value for key, value in row.items() if key in _KEYS])
            if conn.execute(exists).first() is None:
                conn.execute(insert(table).values(**row))
        return
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


_KEYS = {"path", "group_path", "provider", "subject"}


def _membership(row: Any) -> Membership:
    grant = Grant(expires=row.expires, spots=row.spots, depth=row.depth,
                  removal=Removal(row.removal), deplete=bool(row.deplete))
    return Membership(row.user_id, GroupPath.parse(row.group_path), grant,
                      tuple(json.loads(row.inviters)))


def _invite(row: Any) -> Invite:
    terms = InviteTerms(
        inviter_id=row.inviter_id, group=GroupPath.parse(row.group_path),
        accept_by=row.accept_by, accepts=row.accepts, spots=row.spots, depth=row.depth,
        access_expires=row.access_expires, access_for=row.access_for,
        removal=Removal(row.removal), deplete=bool(row.deplete), redirect=row.redirect,
        confirm=bool(row.confirm))
    state = InviteState(uses=row.uses, revoked=row.revoked_at is not None)
    return Invite(row.id, terms, state, row.created_at)
