"""Read-only queries for the operator's command line (``flask-modular-login``).

Listings across users and groups that no view needs: every group of a tree,
every invite, every live session. Changes never happen here: they go through
:mod:`..service.admin`, which uses the store methods that append events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from .access import Invite, _invite
from .tables import access_groups, group_owners, invites, memberships, sessions, users

if TYPE_CHECKING:
    from .database import Store


@dataclass(frozen=True)
class GroupRow:
    path: str
    parent: str | None
    owners: tuple[str, ...]
    members: int


@dataclass(frozen=True)
class SessionRow:
    user_id: str
    name: str
    handle: str
    provider: str
    auth_time: int
    last_seen: int
    expires_at: int
    ip: str | None


class AdminQueries:
    def __init__(self, store: Store) -> None:
        self._store = store

    def groups(self, root: str | None = None) -> list[GroupRow]:
        """Every group (of ``root``'s tree only, if given), sorted by path."""
        query = select(access_groups.c.path, access_groups.c.parent)
        if root is not None:
            query = query.where(access_groups.c.root == root)
        counts = (select(memberships.c.group_path, func.count().label("n"))
                  .group_by(memberships.c.group_path))
        with self._store.read() as conn:
            rows = conn.execute(query.order_by(access_groups.c.path)).all()
            owners: dict[str, list[str]] = {}
            for row in conn.execute(select(group_owners).order_by(
                    group_owners.c.provider, group_owners.c.subject)):
                owners.setdefault(row.group_path, []).append(f"{row.provider}:{row.subject}")
            members = {row.group_path: row.n for row in conn.execute(counts)}
        return [GroupRow(row.path, row.parent, tuple(owners.get(row.path, ())),
                         members.get(row.path, 0)) for row in rows]

    def live_sessions(self, now: int, user_id: str | None = None) -> list[SessionRow]:
        """Sessions neither revoked nor expired (of ``user_id`` only, if given), newest first."""
        query = (select(sessions, users.c.name).join(users, users.c.id == sessions.c.user_id)
                 .where(sessions.c.revoked_at.is_(None), sessions.c.expires_at > now))
        if user_id is not None:
            query = query.where(sessions.c.user_id == user_id)
        with self._store.read() as conn:
            rows = conn.execute(query.order_by(sessions.c.auth_time.desc(),
                                               sessions.c.handle)).all()
        return [SessionRow(row.user_id, row.name, row.handle, row.provider, row.auth_time,
                           row.lease_start, row.expires_at, row.ip) for row in rows]

    def invites(self) -> list[Invite]:
        """Every invite, oldest first."""
        with self._store.read() as conn:
            rows = conn.execute(select(invites).order_by(invites.c.created_at, invites.c.id))
            return [_invite(row) for row in rows]

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None: never migrated)."""
        from alembic.runtime.migration import MigrationContext

        with self._store.read() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        from .database import alembic_config

        return ScriptDirectory.from_config(alembic_config()).get_current_head()
