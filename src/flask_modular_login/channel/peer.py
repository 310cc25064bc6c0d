"""One connection on the channel server: its protocol state and its outbox.

A :class:`Peer` pairs the websocket with its
:class:`~flask_modular_login.core.protocol.connection.ServerConnection` and
owns the one task that writes to the socket, so everything sent on a
connection (responses, events, heartbeats, the close) goes out in the order it
was queued and a slow reader never holds up anyone else: a peer whose outbox
overflows is closed (it reconnects and catches up). Everything here runs on the
server's event loop; nothing blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from websockets.asyncio.server import ServerConnection as WebSocket
from websockets.exceptions import ConnectionClosed as SocketClosed

from ..core.protocol.connection import Close, ServerConnection

__all__ = ["Peer", "OUTBOX_LIMIT", "SLOW_CLOSE_CODE"]

logger = logging.getLogger("flask_modular_login.channel")

OUTBOX_LIMIT = 16 * 1024 * 1024
"""Bytes queued for one peer (at most 64 KiB a message) before it counts as too slow."""

SLOW_CLOSE_CODE = 1013
"""Websocket "try again later": the peer read too slowly (it reconnects and catches up)."""


class Peer:
    """One websocket and its protocol state (see the module docstring)."""

    def __init__(self, ws: WebSocket, conn: ServerConnection, address: str) -> None:
        self.ws = ws
        self.conn = conn
        self.address = address
        self.busy = False
        """True while a worker thread holds ``conn`` (the handshake's client look-up)."""
        self.tasks: set[asyncio.Task[None]] = set()
        self._outbox: asyncio.Queue[str | Close] = asyncio.Queue()
        self._queued = 0  # characters in the outbox (about its bytes: messages are mostly ASCII)
        self._closing: Close | None = None
        self._writer: asyncio.Future[None] | None = None

    @property
    def client(self) -> str | None:
        """The authenticated client's name (None before the handshake)."""
        return self.conn.client

    @property
    def closing(self) -> bool:
        return self._closing is not None

    def send(self, text: str) -> None:
        """Queue one message (dropped once the peer is closing)."""
        if self._closing is not None:
            return
        if self._queued + len(text) > OUTBOX_LIMIT:
            self.close(self.conn.close(SLOW_CLOSE_CODE, "too slow: reconnect and catch up"))
            return
        self._queued += len(text)
        self._outbox.put_nowait(text)

    def close(self, close: Close, *, at_once: bool = False) -> None:
        """Close with ``close`` after what is already queued (``at_once``: instead of it, as
        for a revoked client); later sends are dropped."""
        if self._closing is not None:
            return
        self._closing = close
        while at_once and not self._outbox.empty():
            self._outbox.get_nowait()
        self._queued = 0 if at_once else self._queued
        self._outbox.put_nowait(close)

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run ``coroutine`` as a task that lives no longer than this peer."""
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def start(self) -> None:
        """Start the writer task (on the event loop)."""
        self._writer = asyncio.ensure_future(self._write())

    async def _write(self) -> None:
        try:
            while True:
                item = await self._outbox.get()
                if isinstance(item, Close):
                    await self.ws.close(item.code, item.reason)
                    return
                self._queued -= len(item)
                await self.ws.send(item)
        except SocketClosed:
            return

    async def finish(self, timeout: float) -> None:
        """End this peer: cancel its tasks; a queued close gets ``timeout`` seconds to go out
        (with what was queued before it), anything else queued is dropped."""
        for task in list(self.tasks):
            task.cancel()
        writer = self._writer
        if writer is None:
            return
        if self._closing is None:
            writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError, Exception):
            await asyncio.wait_for(writer, timeout)
