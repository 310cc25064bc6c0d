"""The audit log: who did what to whose account, for the user (sessions page) and operators.

A row is written by the store method that makes the change, inside its write
transaction (:func:`record`), so it exists exactly when the change does: a refused
or failed change writes none. ``detail`` is a short JSON object naming what the
change touched (group, session handles, provider, invite id); never a secret (no
session id, lease, invite code or short code). Kinds are in docs/signals.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select

from .tables import audit

if TYPE_CHECKING:
    from .database import Store

DETAIL_CHARS = 1000
SECRET_KEYS = frozenset({"session_id", "token", "code", "short_code", "lease", "key", "secret"})


@dataclass(frozen=True)
class AuditEntry:
    """One audit row to write with a change. ``user_id``: whose event (the store may fill it
    in from what the change touched); ``actor_id``: who did it (None: an operator)."""

    kind: str
    user_id: str | None = None
    actor_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    ip: str | None = None

    def with_detail(self, **more: Any) -> AuditEntry:
        return replace(self, detail={**self.detail, **more})


@dataclass(frozen=True)
class AuditRecord:
    id: int
    created_at: int
    user_id: str
    actor_id: str | None
    kind: str
    detail: dict[str, Any]
    ip: str | None


def record(conn: Connection, entry: AuditEntry, now: int) -> None:
    """Write ``entry`` in the caller's write transaction."""
    if entry.user_id is None:
        raise ValueError("an audit row names whose event it is")
    secret = SECRET_KEYS & set(entry.detail)
    if secret:
        raise ValueError(f"audit detail may not hold secrets: {sorted(secret)}")
    detail = json.dumps(dict(entry.detail), separators=(",", ":"), sort_keys=True)
    if len(detail) > DETAIL_CHARS:
        raise ValueError("audit detail too long")
    conn.execute(insert(audit).values(
        created_at=now, user_id=entry.user_id, actor_id=entry.actor_id, kind=entry.kind,
        detail=detail, ip=(entry.ip or "")[:64] or None))


class AuditLog:
    def __init__(self, store: Store) -> None:
        self._store = store

    def list(self, user_id: str | None = None, since: float | None = None,
             limit: int = 100) -> list[AuditRecord]:
        """The newest rows first, at most ``limit``: one user's (``user_id``) or everyone's,
        from ``since`` (epoch seconds, inclusive) on. For operators and the sessions page."""
        query = select(audit).order_by(audit.c.created_at.desc(), audit.c.id.desc())
        if user_id is not None:
            query = query.where(audit.c.user_id == user_id)
        if since is not None:
            query = query.where(audit.c.created_at >= since)
        with self._store.read() as conn:
            rows = conn.execute(query.limit(max(0, int(limit)))).all()
        return [AuditRecord(row.id, row.created_at, row.user_id, row.actor_id, row.kind,
                            json.loads(row.detail), row.ip) for row in rows]
