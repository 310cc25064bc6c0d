"""Users and their identities. An identity is (provider, subject); never matched by e-mail."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, insert, select, update

from .tables import identities, users

if TYPE_CHECKING:
    from .database import Store


@dataclass(frozen=True)
class User:
    id: str
    name: str
    picture: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {"id": self.id, "name": self.name, "picture": self.picture}


class AccountStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    def login(self, provider: str, subject: str, name: str, picture: str | None, now: int) -> User:
        """The user behind (provider, subject), created at first login; profile refreshed."""
        with self._store.write() as conn:
            user_id = _user_id_for(conn, provider, subject)
            if user_id is None:
                user_id = _create_user(conn, name, picture, now)
                conn.execute(insert(identities).values(
                    provider=provider, subject=subject, user_id=user_id, created_at=now))
            else:
                conn.execute(update(users).where(users.c.id == user_id)
                             .values(name=name, picture=picture))
        return User(user_id, name, picture)

    def get(self, user_id: str) -> User | None:
        with self._store.read() as conn:
            row = conn.execute(select(users.c.id, users.c.name, users.c.picture)
                               .where(users.c.id == user_id)).first()
        return User(*row) if row else None

    def identities_of(self, user_id: str) -> list[tuple[str, str]]:
        with self._store.read() as conn:
            rows = conn.execute(select(identities.c.provider, identities.c.subject)
                                .where(identities.c.user_id == user_id)
                                .order_by(identities.c.created_at, identities.c.provider))
            return [tuple(row) for row in rows]  # type: ignore[misc]

    def delete(self, user_id: str) -> None:
        """Remove a user and their identities; the caller revokes their sessions first."""
        with self._store.write() as conn:
            conn.execute(delete(identities).where(identities.c.user_id == user_id))
            conn.execute(delete(users).where(users.c.id == user_id))


def _user_id_for(conn: Connection, provider: str, subject: str) -> str | None:
    return conn.execute(select(identities.c.user_id).where(
        identities.c.provider == provider, identities.c.subject == subject)).scalar()


def _create_user(conn: Connection, name: str, picture: str | None, now: int) -> str:
    user_id = secrets.token_hex(16)
    conn.execute(insert(users).values(id=user_id, name=name, picture=picture, created_at=now))
    return user_id
