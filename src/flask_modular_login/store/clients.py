"""The remote client apps allowed on the channel, each with its own key.

Only the key derived from a credential is stored (``core.protocol.auth.client_key``),
never the credential. Revoking a client marks it and appends a ``client_revoked``
event in one transaction: the channel server, which follows the log, closes that
client's connections at once, and refuses its next handshake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select, update

from ..core.errors import LoginError
from ..core.events import CLIENT_REVOKED
from ..core.protocol.auth import ClientRecord
from . import events
from .tables import channel_clients

if TYPE_CHECKING:
    from .database import Store


class ClientExists(LoginError, ValueError):
    code = "client_exists"


@dataclass(frozen=True)
class ClientInfo:
    name: str
    created_at: int
    revoked_at: int | None


class ClientStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, name: str, key: bytes, now: int) -> None:
        """Allow client ``name`` with ``key``; a revoked name may be added again (with a new
        key). Raises :class:`ClientExists` if an active client has the name."""
        with self._store.write() as conn:
            row = conn.execute(select(channel_clients.c.revoked_at)
                               .where(channel_clients.c.name == name)).first()
            if row is not None and row.revoked_at is None:
                raise ClientExists(f"a client named {name!r} exists; revoke it first")
            conn.execute(delete(channel_clients).where(channel_clients.c.name == name))
            conn.execute(insert(channel_clients).values(name=name, key=key.hex(),
                                                        created_at=now, revoked_at=None))

    def lookup(self, name: str) -> ClientRecord | None:
        """The client as the handshake needs it (None if unknown)."""
        with self._store.read() as conn:
            row = conn.execute(select(channel_clients)
                               .where(channel_clients.c.name == name)).first()
        if row is None:
            return None
        return ClientRecord(row.name, bytes.fromhex(row.key), row.revoked_at is not None)

    def list(self) -> list[ClientInfo]:
        with self._store.read() as conn:
            rows = conn.execute(select(channel_clients.c.name, channel_clients.c.created_at,
                                       channel_clients.c.revoked_at)
                                .order_by(channel_clients.c.name))
            return [ClientInfo(*row) for row in rows]

    def revoke(self, name: str, now: int) -> bool:
        """Cut client ``name`` off; False if there is no such active client."""
        with self._store.write() as conn:
            done = conn.execute(update(channel_clients).where(
                channel_clients.c.name == name, channel_clients.c.revoked_at.is_(None))
                .values(revoked_at=now)).rowcount
            if done:
                events.append(conn, CLIENT_REVOKED, now, client=name)
            return bool(done)
