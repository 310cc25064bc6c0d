"""The channel server's one reader of the event log, fanning each new event out to every peer.

:class:`Hub` follows the log after its cursor every ``poll_seconds`` (50 ms)
and at once when woken (:meth:`Hub.wake`, thread-safe: the service's notifier
calls it after every change made in this process). It pushes each event, in
cursor order, to every welcomed peer, and closes the connections of a client
when it reads that client's ``client_revoked`` event (never pushed).

Cursor contract, which is what lets a client catch up without gaps: a peer is
welcomed with :attr:`Hub.cursor` and added in the same step (no await
between), and every event after that cursor is then pushed to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from ..core.events import CLIENT_REVOKED, MEMBERSHIP_KINDS, Event
from ..core.protocol.errors import ProtocolError, RevokedClient
from ..core.protocol.messages import encode
from ..store.events import BATCH, EventLog
from .peer import Peer

__all__ = ["Hub", "POLL_SECONDS"]

logger = logging.getLogger("flask_modular_login.channel")

POLL_SECONDS = 0.05


class Hub:
    """Follows ``log`` and pushes to the peers added with :meth:`add` (see the module)."""

    def __init__(self, log: EventLog, poll_seconds: float = POLL_SECONDS,
                 changed: Callable[[str], None] | None = None) -> None:
        self._log = log
        self._poll_seconds = poll_seconds
        self._changed = changed
        """Told the user of each membership event before it is pushed: the shared cache
        forgets their answers, whoever made the change (an app writing to the store
        itself, another host)."""
        self.cursor = 0
        """The newest event read (and pushed, unless it was for the server alone)."""
        self._peers: set[Peer] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None
        self._failing = False
        self._revoked: dict[str, int] = {}

    async def start(self) -> None:
        """Bind to the running loop and start at the log's newest event."""
        self._loop = asyncio.get_running_loop()
        self._woken = asyncio.Event()
        self.cursor = await asyncio.to_thread(self._log.cursor)

    def wake(self) -> None:
        """Read the log now (from any thread; does nothing when the hub is not running)."""
        loop, woken = self._loop, self._woken
        if loop is None or woken is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(woken.set)

    def add(self, peer: Peer) -> None:
        """Push every event after :attr:`cursor` to ``peer`` from now on."""
        self._peers.add(peer)

    def discard(self, peer: Peer) -> None:
        self._peers.discard(peer)

    def peers(self, client: str | None = None) -> list[Peer]:
        """The welcomed peers (of ``client`` only, if given)."""
        return [p for p in self._peers if client is None or p.client == client]

    async def follow(self) -> None:
        """Run until cancelled: read the log when woken or every ``poll_seconds``."""
        assert self._woken is not None, "start() first"
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self._poll_seconds)
            self._woken.clear()
            try:
                await self.drain()
            except Exception as error:  # a bug must not stop the pushes for good
                logger.error("channel: following the event log failed: %s",
                             type(error).__name__)

    async def drain(self) -> None:
        """Push everything after the cursor; a store outage is logged once and retried."""
        while True:
            try:
                events = await asyncio.to_thread(self._log.after, self.cursor, BATCH)
            except Exception as error:
                if not self._failing:
                    logger.warning("channel: cannot read the event log: %s",
                                   type(error).__name__)
                self._failing = True
                return
            if self._failing:
                logger.info("channel: the event log can be read again")
                self._failing = False
            await asyncio.to_thread(self._forget, events)
            for event in events:
                self._publish(event)
                self.cursor = event.cursor
            if len(events) < BATCH:
                return

    def _forget(self, events: list[Event]) -> None:
        if self._changed is None:
            return
        for user_id in {e.user_id for e in events if e.kind in MEMBERSHIP_KINDS and e.user_id}:
            try:
                self._changed(user_id)
            except Exception as error:  # the cache's TTL still bounds what it keeps
                logger.warning("channel: cannot forget cached answers: %s",
                               type(error).__name__)

    def _publish(self, event: Event) -> None:
        if event.kind == CLIENT_REVOKED:
            self._cut_off(event.client or "", event.cursor)
            return
        try:
            text = encode(event)  # once: every peer is handed the same text
        except ProtocolError as error:
            logger.error("channel: event %d cannot be sent (%s): skipped", event.cursor,
                         error.code)
            return
        for peer in list(self._peers):
            if peer.closing:
                continue
            try:
                peer.send(peer.conn.send_event(event, text))
            except Exception as error:  # this peer's state only: the others still get it
                logger.error("channel: cannot push to %s: %s", peer.address,
                             type(error).__name__)
                peer.close(peer.conn.close(1011, "internal error"))

    def revoked_since(self, client: str, cursor: int) -> bool:
        """Whether the hub read a revocation of ``client`` after ``cursor``: a handshake whose
        look-up began at ``cursor`` may have read the client before it was revoked."""
        return self._revoked.get(client, -1) > cursor

    def _cut_off(self, client: str, cursor: int) -> None:
        self._revoked[client] = cursor
        for peer in self.peers(client):
            self._peers.discard(peer)
            peer.close(peer.conn.fail(RevokedClient(f"client {client!r} was revoked")),
                       at_once=True)
            logger.warning("channel: closed a connection of revoked client %r from %s",
                           client, peer.address)
