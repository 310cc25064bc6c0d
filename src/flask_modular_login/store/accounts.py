"""Users and their identities. An identity is (provider, subject); never matched by e-mail.

A user may link more identities (an explicit action of the logged-in user) and
unlink them, never the last one. Errors::

    AccountError          account_error       (also: no such user)
    ├── IdentityTaken     identity_taken      linked to another user: never merged
    ├── NoSuchIdentity    identity_unknown    not one of this user's identities
    └── LastIdentity      identity_last       the user's only identity cannot be unlinked
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..core.errors import LoginError
from .access import announce_identity_change
from .audit import AuditEntry, record
from .tables import identities, users

if TYPE_CHECKING:
    from .database import Store


class AccountError(LoginError):
    code = "account_error"


class IdentityTaken(AccountError):
    code = "identity_taken"


class NoSuchIdentity(AccountError):
    code = "identity_unknown"


class LastIdentity(AccountError):
    code = "identity_last"


@dataclass(frozen=True)
class Identity:
    provider: str
    subject: str
    created_at: int


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
            return [tuple(row) for row in rows]

    def linked(self, user_id: str) -> list[Identity]:
        """The user's identities, oldest first."""
        with self._store.read() as conn:
            rows = conn.execute(
                select(identities.c.provider, identities.c.subject, identities.c.created_at)
                .where(identities.c.user_id == user_id)
                .order_by(identities.c.created_at, identities.c.provider, identities.c.subject))
            return [Identity(*row) for row in rows]

    def link(self, user_id: str, provider: str, subject: str, now: int,
             audit: AuditEntry | None = None) -> bool:
        """Add (provider, subject) to ``user_id``; False if it already was theirs.

        Raises :class:`IdentityTaken` if another user has it (accounts are never merged).
        """
        try:
            with self._store.write() as conn:
                if not _lock_user(conn, user_id):
                    raise AccountError("no such user")
                owner = _user_id_for(conn, provider, subject)
                if owner == user_id:
                    return False
                if owner is not None:
                    raise IdentityTaken(f"{provider} identity belongs to another user")
                conn.execute(insert(identities).values(
                    provider=provider, subject=subject, user_id=user_id, created_at=now))
                announce_identity_change(conn, user_id, provider, subject, now)
                if audit is not None:
                    record(conn, audit, now)
        except IntegrityError:  # linked by a concurrent transaction in the meantime
            raise IdentityTaken(f"{provider} identity belongs to another user") from None
        return True

    def unlink(self, user_id: str, provider: str, subject: str, now: int,
               audit: AuditEntry | None = None) -> None:
        """Remove one of the user's identities, never the last one.

        The count and the delete share one write transaction with the user's row
        locked, so concurrent unlinks cannot leave the user without an identity.
        Raises :class:`NoSuchIdentity` or :class:`LastIdentity`.
        """
        with self._store.write() as conn:
            _lock_user(conn, user_id)
            if _user_id_for(conn, provider, subject) != user_id:
                raise NoSuchIdentity(f"no {provider} identity of this user")
            count = conn.execute(select(func.count()).select_from(identities)
                                 .where(identities.c.user_id == user_id)).scalar_one()
            if count <= 1:
                raise LastIdentity("the last identity of a user cannot be unlinked")
            conn.execute(delete(identities).where(
                identities.c.provider == provider, identities.c.subject == subject,
                identities.c.user_id == user_id))
            announce_identity_change(conn, user_id, provider, subject, now)
            if audit is not None:
                record(conn, audit, now)

    def delete(self, user_id: str) -> None:
        """Remove a user and their identities; the caller revokes their sessions first."""
        with self._store.write() as conn:
            conn.execute(delete(identities).where(identities.c.user_id == user_id))
            conn.execute(delete(users).where(users.c.id == user_id))


def _user_id_for(conn: Connection, provider: str, subject: str) -> str | None:
    return conn.execute(select(identities.c.user_id).where(
        identities.c.provider == provider, identities.c.subject == subject)).scalar()


def _lock_user(conn: Connection, user_id: str) -> bool:
    """Serialise writers on one user's identities (``FOR UPDATE``; SQLite's writer lock).

    False if there is no such user.
    """
    query = select(users.c.id).where(users.c.id == user_id).with_for_update()
    return conn.execute(query).first() is not None


def _create_user(conn: Connection, name: str, picture: str | None, now: int) -> str:
    user_id = secrets.token_hex(16)
    conn.execute(insert(users).values(id=user_id, name=name, picture=picture, created_at=now))
    return user_id
