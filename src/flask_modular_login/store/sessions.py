"""Sessions, and their revocations in the event log (:mod:`.events`).

Every way a session ends (logout, "end this session", "end all others", removal of
the user) marks the row revoked *and* appends a ``revoked`` event in the same
transaction, so a client that reads the log after its cursor never misses one.

A session's lease is decided in the write transaction that records it: starting a
session writes the row and decides its first lease from what was written (a
concurrent "end all others" comes before or after, never in between), and a
renewal checks the session and records the new lease at once. Each session keeps
``leases_end``, the latest expiry of any lease issued for it (whoever issued it,
with whatever lease setting), and each revocation copies it: clients keep a
revocation until then, and no longer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, case, insert, select, update

from ..core.errors import SessionEnded
from ..core.events import REVOKED
from ..core.leases import Lease, SessionFacts, lease_for
from ..core.leases import renew as renewal
from .audit import AuditEntry, record
from .events import append_many
from .tables import sessions, users

if TYPE_CHECKING:
    from .database import Store

SESSION_ID_BYTES = 32  # 256 bits from the OS CSPRNG


@dataclass(frozen=True)
class SessionInfo:
    """What the sessions page shows: never the session id, only its short handle."""

    handle: str
    provider: str
    auth_time: int
    last_seen: int
    ip: str | None
    user_agent: str | None


_FACTS_COLUMNS = (sessions.c.id, sessions.c.user_id, users.c.name, users.c.picture,
                  sessions.c.auth_time, sessions.c.expires_at, sessions.c.revoked_at)


class SessionStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    def create(self, user_id: str, provider: str, now: int, lifetime: int, lease_seconds: int,
               ip: str | None = None, user_agent: str | None = None,
               audit: AuditEntry | None = None) -> Lease:
        """A new session for ``user_id`` and its first lease (to sign), decided from what
        the one transaction that writes the session wrote (and ``audit``, with the handle).

        Raises :class:`SessionEnded` if the user no longer exists.
        """
        session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
        with self._store.write() as conn:
            user = conn.execute(select(users.c.name, users.c.picture)
                                .where(users.c.id == user_id)).first()
            if user is None:
                raise SessionEnded("no such user")
            facts = SessionFacts(session_id=session_id, user_id=user_id, name=user.name,
                                 picture=user.picture, auth_time=now,
                                 expires_at=now + lifetime)
            lease = lease_for(facts, now, lease_seconds)
            handle = secrets.token_hex(6)
            conn.execute(insert(sessions).values(
                id=session_id, handle=handle, user_id=user_id, provider=provider,
                auth_time=now, lease_start=now, expires_at=facts.expires_at,
                leases_end=lease.expires_at,
                ip=(ip or "")[:64] or None, user_agent=(user_agent or "")[:512] or None,
            ))
            if audit is not None:
                record(conn, audit.with_detail(handle=handle), now)
        return lease

    def handle(self, session_id: str) -> str | None:
        """The session's public handle (what signals and the audit log name, never the id)."""
        with self._store.read() as conn:
            return conn.execute(select(sessions.c.handle)
                                .where(sessions.c.id == session_id)).scalar()

    def facts(self, session_id: str) -> SessionFacts | None:
        """The store's view of a session."""
        with self._store.read() as conn:
            return _facts(conn, session_id)

    def renew(self, expired: Lease, now: int, lease_seconds: int) -> Lease:
        """The lease (to sign) that replaces ``expired``, recorded by the statement that
        checks the session: the sessions page's "last seen", and ``leases_end``.

        One ``UPDATE ... RETURNING``, atomic on its own: it touches the row only while
        the session is live and ``expired``'s user's, and returns what decides the
        lease. Raises :class:`SessionEnded` when the session is revoked, unknown or too
        old.
        """
        with self._store.write() as conn:
            row = conn.execute(_RENEW, {"session": expired.session_id,
                                        "of_user": expired.user_id, "now": now,
                                        "longest": now + lease_seconds}).first()
        facts = None if row is None else SessionFacts(*row)
        return renewal(expired, facts, now, lease_seconds)

    def active(self, user_id: str, now: int) -> list[tuple[str, SessionInfo]]:
        """(session id, info) of the user's live sessions, newest first."""
        query = (select(sessions).where(sessions.c.user_id == user_id,
                                        sessions.c.revoked_at.is_(None),
                                        sessions.c.expires_at > now)
                 .order_by(sessions.c.auth_time.desc(), sessions.c.handle))
        with self._store.read() as conn:
            rows = conn.execute(query).all()
        return [(row.id, SessionInfo(row.handle, row.provider, row.auth_time, row.lease_start,
                                     row.ip, row.user_agent)) for row in rows]

    def revoke(self, session_id: str, reason: str, now: int) -> bool:
        """End one session; False if it was already ended or never existed."""
        return bool(self.end(reason, now, session_id=session_id))

    def revoke_handle(self, user_id: str, handle: str, reason: str, now: int) -> bool:
        """End the session ``handle`` if, and only if, it belongs to ``user_id``."""
        return bool(self.end(reason, now, user_id=user_id, handle=handle))

    def revoke_user(self, user_id: str, reason: str, now: int,
                    keep: str | None = None, provider: str | None = None) -> int:
        """End every session of ``user_id`` (only those started through ``provider``, if
        given) except ``keep``; returns how many ended."""
        return len(self.end(reason, now, user_id=user_id, keep=keep, provider=provider))

    def end(self, reason: str, now: int, *, session_id: str | None = None,
            user_id: str | None = None, handle: str | None = None, keep: str | None = None,
            provider: str | None = None, audit: AuditEntry | None = None) -> list[Ended]:
        """End the live sessions matching every given condition (``session_id`` or
        ``user_id`` is required; ``keep`` is spared); the ones that ended.

        When some ended, ``audit`` is written in the same transaction, with their handles.
        """
        if session_id is None and user_id is None:
            raise ValueError("end which sessions? name a session or a user")
        query = select(sessions.c.id)
        if session_id is not None:
            query = query.where(sessions.c.id == session_id)
        if user_id is not None:
            query = query.where(sessions.c.user_id == user_id)
        if handle is not None:
            query = query.where(sessions.c.handle == handle)
        if keep is not None:
            query = query.where(sessions.c.id != keep)
        if provider is not None:
            query = query.where(sessions.c.provider == provider)
        with self._store.write() as conn:
            ended = _revoke(conn, list(conn.execute(query).scalars()), reason, now)
            if ended and audit is not None:
                record(conn, audit.with_detail(handles=[e.handle for e in ended],
                                               reason=reason), now)
        return ended


@dataclass(frozen=True)
class Ended:
    """A session that just ended, as signals and the audit log name it (no session id)."""

    handle: str
    user_id: str


def _of_user(column: Any) -> Any:
    """``column`` of the session's user, as a subquery a statement on sessions can return."""
    return (select(column).where(users.c.id == sessions.c.user_id)
            .scalar_subquery().label(column.name))


_LEASE_END = case((sessions.c.expires_at < bindparam("longest"), sessions.c.expires_at),
                  else_=bindparam("longest"))  # the new lease's expires_at
_RENEW = (
    update(sessions)
    .where(sessions.c.id == bindparam("session"), sessions.c.user_id == bindparam("of_user"),
           sessions.c.revoked_at.is_(None), sessions.c.expires_at > bindparam("now"))
    .values(lease_start=bindparam("now"),
            leases_end=case((sessions.c.leases_end < _LEASE_END, _LEASE_END),
                            else_=sessions.c.leases_end))
    .returning(sessions.c.id, sessions.c.user_id, _of_user(users.c.name),
               _of_user(users.c.picture), sessions.c.auth_time, sessions.c.expires_at))
"""A renewal, built once (SQLAlchemy builds a statement slower than SQLite runs it)."""


def _facts(conn: Connection, session_id: str) -> SessionFacts | None:
    query = (select(*_FACTS_COLUMNS).join(users, users.c.id == sessions.c.user_id)
             .where(sessions.c.id == session_id))
    row = conn.execute(query).first()
    if row is None:
        return None
    return SessionFacts(session_id=row.id, user_id=row.user_id, name=row.name,
                        picture=row.picture, auth_time=row.auth_time,
                        expires_at=row.expires_at, revoked=row.revoked_at is not None)


def _revoke(conn: Connection, session_ids: list[str], reason: str, now: int) -> list[Ended]:
    if not session_ids:
        return []
    ended = conn.execute(update(sessions).where(sessions.c.id.in_(session_ids),
                                                sessions.c.revoked_at.is_(None))
                         .values(revoked_at=now)
                         .returning(sessions.c.id, sessions.c.leases_end, sessions.c.handle,
                                    sessions.c.user_id)).all()
    append_many(conn, [{"kind": REVOKED, "session_id": row.id, "leases_end": row.leases_end,
                        "created_at": now} for row in ended])
    return sorted((Ended(row.handle, row.user_id) for row in ended), key=lambda e: e.handle)
