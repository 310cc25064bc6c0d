"""The event log: revocations and membership changes in one table, its id the cursor.

Writers append inside their own write transaction (:func:`append`), so an event
exists exactly when the change it announces does (on PostgreSQL, the same
transaction sends the ``NOTIFY`` that wakes other hosts: :mod:`.notify`).
Readers follow the log after a cursor (:meth:`EventLog.after`); a client starting
up also needs every revocation whose leases may still be live
(:meth:`EventLog.live_revocations`).
:meth:`EventLog.purge` drops what no client can need any more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select

from ..core.events import REVOKED, Event
from .notify import announce
from .tables import events

if TYPE_CHECKING:
    from .database import Store

BATCH = 10_000


def append(conn: Connection, kind: str, now: int, **fields: Any) -> None:
    """Append one event in the caller's write transaction (``fields``: the columns); on
    PostgreSQL, listeners on other hosts are woken when it commits (:mod:`.notify`)."""
    conn.execute(insert(events).values(kind=kind, created_at=now, **fields))
    announce(conn)


def append_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(events), rows)
        announce(conn)


class EventLog:
    def __init__(self, store: Store) -> None:
        self._store = store

    def after(self, cursor: int, limit: int = BATCH) -> list[Event]:
        """The events after ``cursor``, oldest first, at most ``limit``."""
        query = select(events).where(events.c.id > cursor).order_by(events.c.id).limit(limit)
        with self._store.read() as conn:
            return [_event(row) for row in conn.execute(query)]

    def cursor(self) -> int:
        """The id of the newest event (0 for an empty log)."""
        with self._store.read() as conn:
            return conn.execute(select(func.max(events.c.id))).scalar() or 0

    def live_revocations(self, now: float) -> tuple[int, list[Event]]:
        """The current cursor and every revocation whose session may still have a live
        lease at ``now``: what a client starting up must know, however old."""
        with self._store.read() as conn:
            cursor = conn.execute(select(func.max(events.c.id))).scalar() or 0
            rows = conn.execute(select(events).where(
                events.c.kind == REVOKED, events.c.leases_end > now, events.c.id <= cursor)
                .order_by(events.c.id))
            return cursor, [_event(row) for row in rows]

    def purge(self, now: float, keep_seconds: float) -> int:
        """Delete the revocations whose leases have all ended and the other events older
        than ``keep_seconds`` (never the newest event, so the cursor never goes back)."""
        with self._store.write() as conn:
            newest = conn.execute(select(func.max(events.c.id))).scalar() or 0
            old_revocation = and_(events.c.kind == REVOKED, events.c.leases_end <= now)
            old_change = and_(events.c.kind != REVOKED,
                              events.c.created_at < now - keep_seconds)
            return conn.execute(delete(events).where(
                or_(old_revocation, old_change), events.c.id < newest)).rowcount


def _event(row: Any) -> Event:
    return Event(cursor=row.id, kind=row.kind, created_at=row.created_at,
                 session_id=row.session_id, leases_end=row.leases_end,
                 user_id=row.user_id, group=row.group_path, client=row.client)
