"""The channel server hears, at once, of events another host commits (PostgreSQL).

Several hosts share one PostgreSQL; a change made through host A appends its
event and, in the same transaction, sends ``NOTIFY`` (:mod:`..store.notify`).
Host B's channel server runs a :class:`NotificationListener`: one connection of
its own (psycopg, asynchronous, on the server's event loop) that ``LISTEN``\\ s
and wakes the :class:`~.hub.Hub` for every notification, which then reads the
log after its cursor and pushes. It also wakes the hub once after every
(re)connection, for what was committed while it was not listening.

The hub's polling stays the fallback: a lost connection (PostgreSQL restarted,
the network cut) is logged and retried after :func:`backoff` (0.1 s, doubling,
at most 30 s); the listener never raises into the server. TCP keepalives
notice a connection that died silently within about a minute. Logs name the
error's type, never the connection string (it may hold a password).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from ..store import Store
from ..store.notify import CHANNEL, listen_dsn

__all__ = ["NotificationListener", "backoff", "listener_for"]

logger = logging.getLogger("flask_modular_login.channel")

FIRST_RETRY_SECONDS = 0.1
MOST_RETRY_SECONDS = 30.0
_CONNECT: dict[str, Any] = {
    "autocommit": True,  # LISTEN takes effect at once; notifications arrive between commands
    "connect_timeout": 10,
    "application_name": "flask-modular-login channel",
    "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
}


def backoff(failures: int, first: float = FIRST_RETRY_SECONDS,
            most: float = MOST_RETRY_SECONDS) -> float:
    """Seconds to wait before the next connection attempt, after ``failures`` in a row."""
    return min(most, first * 2 ** max(0, failures - 1)) if failures > 0 else 0.0


class NotificationListener:
    """Calls ``wake`` for every notification on :data:`~..store.notify.CHANNEL` of the
    database at ``dsn`` (a libpq connection string), from :meth:`run`."""

    def __init__(self, dsn: str, wake: Callable[[], None]) -> None:
        self._dsn = dsn
        self._wake = wake
        self.listening = threading.Event()
        """Set while a connection listens (tests wait for it)."""

    async def run(self) -> None:
        """Listen until cancelled, reconnecting after :func:`backoff`; never raises otherwise."""
        failures = 0
        while True:
            try:
                await self._listen(recovered=failures > 0)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: retry; the hub polls meanwhile
                failures += 1
                self._lost(error, failures)
            finally:
                self.listening.clear()
            await asyncio.sleep(backoff(failures))

    async def _listen(self, recovered: bool) -> None:
        import psycopg  # the 'postgres' extra; loaded only when the store is PostgreSQL

        async with await psycopg.AsyncConnection.connect(self._dsn, **_CONNECT) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            logger.info("channel: %s PostgreSQL notifications",
                        "listening again for" if recovered else "listening for")
            self._wake()  # whatever was committed before LISTEN took effect
            async for _notification in conn.notifies():
                self._wake()
        raise ConnectionError("the notification connection ended")

    def _lost(self, error: Exception, failures: int) -> None:
        level = logging.WARNING if failures == 1 else logging.DEBUG
        logger.log(level, "channel: PostgreSQL notifications lost (%s); polling the event log, "
                   "reconnecting in %.1f s", type(error).__name__, backoff(failures))


def listener_for(store: Store, wake: Callable[[], None]) -> NotificationListener | None:
    """A listener on ``store``'s database if it is PostgreSQL, else None (SQLite: one host,
    woken by the service's notifier)."""
    if store.engine.dialect.name != "postgresql":
        return None
    return NotificationListener(listen_dsn(store.engine.url), wake)
