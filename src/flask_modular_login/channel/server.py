"""The channel server: websockets around the sans-I/O protocol, on the service's machine.

:class:`ChannelServer` accepts connections on TCP and, optionally, a unix
socket. Per connection (:class:`~.peer.Peer`) it sends ``hello``, lets
:class:`~flask_modular_login.core.protocol.connection.ServerConnection` judge
the ``auth`` against ``store.clients`` (replayed, stale, unknown, wrong or
revoked: refused with the protocol's close code), welcomes the client with the
cursor of the :class:`~.hub.Hub`, and from then on answers its requests
(:class:`~.rpc.Dispatcher`, in worker threads: the store blocks), pushes every
new event and sends heartbeats. On PostgreSQL it also listens for the
notifications of events other hosts commit (:mod:`.pg_listen`), so their pushes
leave at once rather than at the hub's next poll.

Isolation: whatever one connection sends or breaks closes that connection
only (malformed, binary, unknown, oversized messages and floods get the
protocol's close code), and an exception while serving it is logged and
closes it with ``internal``. Logs name the peer's address and client, never a
credential, key or token.

Sizes: the protocol refuses a message over 64 KiB with ``too_large`` (4413);
websockets itself refuses one over twice that (1009) before reading it all,
which bounds the memory a peer can make the server hold.

:func:`run_channel` is the ``flask-modular-login channel`` command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, unix_serve
from websockets.asyncio.server import ServerConnection as WebSocket
from websockets.asyncio.server import serve as websocket_serve
from websockets.exceptions import ConnectionClosed as SocketClosed

from .. import keystore, signals
from ..bell import BELL_NAME, Bell
from ..config import Settings, load_settings
from ..core.protocol.auth import NONCE_BYTES
from ..core.protocol.connection import (
    Authenticated,
    Close,
    HeartbeatDue,
    ServerConnection,
    ServerSettings,
    ServerState,
)
from ..core.protocol.errors import ConnectionClosed, Internal, Malformed, RevokedClient
from ..core.protocol.messages import MAX_HEARTBEAT_SECONDS, MIN_HEARTBEAT_SECONDS, Request
from ..core.protocol.wire import MAX_MESSAGE_BYTES
from ..core.verifier import LeaseVerifier
from ..ops import security_log
from ..service import Services
from ..sockets import ensure_socket_dir
from ..store import Store, open_store
from .hub import POLL_SECONDS, Hub
from .local import SOCKET_NAME, ensure_local_credential
from .peer import Peer
from .pg_listen import listener_for
from .rpc import INTERNAL, Dispatcher, RpcFailure

__all__ = ["ChannelServer", "run_channel", "SOCKET_NAME", "SOCKET_MODE", "MAX_FRAME_BYTES"]

logger = logging.getLogger("flask_modular_login.channel")

SOCKET_MODE = 0o660
MAX_FRAME_BYTES = 2 * MAX_MESSAGE_BYTES
"""What websockets reads of one message at most; the protocol refuses above 64 KiB."""
CLOSE_TIMEOUT = 2.0
"""Seconds a closing handshake may take before the socket is dropped."""


class ChannelServer:
    """Serves the channel for ``store`` and ``services`` (see the module docstring).

    ``settings``: ``keys_dir`` (the key ring that verifies leases to renew) and
    ``channel_heartbeat_seconds``. ``clock``: seconds since the epoch. Build it
    anywhere, then run :meth:`serve` on an event loop; :meth:`stop` (from any
    thread) makes :meth:`serve` close every connection (1001) and return. ``poll_seconds``:
    how often the hub reads the log when nothing woke it.
    """

    def __init__(self, store: Store, services: Services, settings: Settings,
                 clock: Callable[[], float] = time.time,
                 poll_seconds: float = POLL_SECONDS) -> None:
        self._store = store
        self._clock = clock
        self._keys = keystore.KeyCache(settings.keys_dir)
        verifier = LeaseVerifier(lambda: self._keys.reload().ring)
        self._dispatch = Dispatcher(store, services, verifier, clock)
        heartbeat = settings.channel_heartbeat_seconds
        if not MIN_HEARTBEAT_SECONDS <= heartbeat <= MAX_HEARTBEAT_SECONDS:
            raise ValueError(f"LOGIN_CHANNEL_HEARTBEAT_SECONDS must be between "
                             f"{MIN_HEARTBEAT_SECONDS:g} and {MAX_HEARTBEAT_SECONDS:g}")
        self._protocol = ServerSettings(heartbeat=heartbeat)
        self._hub = Hub(store.events, poll_seconds, changed=services.access.changed)
        services.notifier.subscribe(self._hub.wake)
        self.notifications = listener_for(store, self._hub.wake)
        """Listens for other hosts' events on PostgreSQL (None on SQLite)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._stop_asked = False
        self.listening = threading.Event()
        """Set while :meth:`serve` accepts connections."""
        self.port: int | None = None
        """The TCP port bound (useful when serving on port 0)."""

    @property
    def cursor(self) -> int:
        """The newest event the server has read from the log (what a welcome carries)."""
        return self._hub.cursor

    @property
    def clients(self) -> int:
        """How many connections are welcomed (authenticated) now."""
        return len(self._hub.peers())

    # ------------------------------------------------------------ lifecycle

    async def serve(self, host: str, port: int, unix_path: Path | None = None) -> None:
        """Accept connections on ``host:port`` (and ``unix_path``, mode 0660) until
        :meth:`stop` or cancellation; then close every connection and return."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        if self._stop_asked:  # stop() came before serve() got here
            self._stopping.set()
        await self._hub.start()
        servers: list[Server] = []
        bell: Bell | None = None
        follower: asyncio.Task[None] | None = None
        listener = (asyncio.create_task(self.notifications.run())
                    if self.notifications is not None else None)
        try:
            servers.append(await websocket_serve(self._handle, host, port, **_OPTIONS))
            self.port = servers[0].sockets[0].getsockname()[1]
            if unix_path is not None:
                try:
                    servers.append(await _serve_unix(self._handle, unix_path))
                except OSError as error:  # e.g. a path too long for a socket: TCP still works
                    logger.error("channel: cannot listen on unix:%s: %s", unix_path, error)
                    unix_path = None
            if unix_path is not None:  # the login service on this host rings after a change
                bell = Bell(unix_path.with_name(BELL_NAME), self._hub.wake)
                bell.open(self._loop)
            follower = asyncio.create_task(self._hub.follow())
            self.listening.set()
            where = f"ws://{host}:{self.port}" + (f" and unix:{unix_path}" if unix_path else "")
            logger.info("channel: listening on %s", where)
            await self._stopping.wait()
        finally:
            self.listening.clear()
            self._stop_asked = False  # serve() may run again
            logger.info("channel: stopping")
            if bell is not None:
                bell.close()
            for task in (follower, listener):
                if task is not None:
                    task.cancel()
            for server in servers:
                server.close(close_connections=True)
            for server in servers:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(server.wait_closed(), CLOSE_TIMEOUT + 1)
            if unix_path is not None and len(servers) > 1:
                with contextlib.suppress(OSError):
                    unix_path.unlink()
            for task in (follower, listener):
                if task is not None:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    def stop(self) -> None:
        """Make :meth:`serve` return (thread-safe; also before it started)."""
        self._stop_asked = True
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)

    # ------------------------------------------------------------ one connection

    async def _handle(self, ws: WebSocket) -> None:
        conn = ServerConnection(secrets.token_bytes(NONCE_BYTES), self._clock(),
                                self._store.clients.lookup, self._protocol)
        peer = Peer(ws, conn, _address(ws))
        peer.start()
        peer.spawn(self._tick(peer))
        try:
            peer.send(conn.hello())
            async for data in ws:  # until closed: a closing peer's messages are read and
                if not peer.closing:  # dropped, so its close frame is not stuck behind them
                    await self._receive(peer, data)
        except SocketClosed:
            pass
        except Exception as error:  # this connection only; never the server or other peers
            logger.error("channel: connection from %s failed: %s", peer.address,
                         type(error).__name__)
            self._refuse(peer, conn.fail(Internal("the service failed")))
        finally:
            self._hub.discard(peer)
            await peer.finish(CLOSE_TIMEOUT)

    async def _receive(self, peer: Peer, data: str | bytes) -> None:
        conn = peer.conn
        if isinstance(data, bytes):
            items: list[Any] = [conn.fail(Malformed("binary message; send text"))]
        elif conn.state is ServerState.AWAITING_AUTH:
            started = self._hub.cursor
            peer.busy = True  # the client look-up blocks: a worker thread holds conn
            try:
                items = await asyncio.to_thread(conn.receive_data, data, self._clock())
            finally:
                peer.busy = False
            if any(isinstance(item, Authenticated) for item in items) and (
                    self._hub.revoked_since(conn.client or "", started)):
                items = [conn.fail(RevokedClient(f"client {conn.client!r} was revoked"))]
        else:
            items = conn.receive_data(data, self._clock())
        for item in items:
            if isinstance(item, Authenticated):
                self._welcome(peer)
            elif isinstance(item, Request):
                peer.spawn(self._answer(peer, item))
            elif isinstance(item, Close):
                self._refuse(peer, item)

    def _welcome(self, peer: Peer) -> None:
        peer.send(peer.conn.send_welcome(self._hub.cursor))
        self._hub.add(peer)  # no await since the welcome: every later event is pushed
        logger.info("channel: client %r connected from %s", peer.client, peer.address)
        signals.send(signals.channel_accepted, self, client=peer.client, address=peer.address)

    def _refuse(self, peer: Peer, close: Close) -> None:
        peer.close(close)
        if close.error is not None:
            who = f"client {peer.client!r} at {peer.address}" if peer.client else peer.address
            logger.warning("channel: closed %s (%d): %s", who, close.code, close.reason)
            if peer not in self._hub.peers(peer.client):  # refused before its welcome
                signals.send(signals.channel_refused, self, client=peer.client,
                             address=peer.address, reason=close.error.code)

    async def _answer(self, peer: Peer, request: Request) -> None:
        conn, call = peer.conn, request.call
        text: str | None
        try:
            result = await asyncio.to_thread(self._dispatch, call)
            text = conn.send_result(request.id, result)
        except ConnectionClosed:
            return
        except RpcFailure as failure:
            logger.debug("channel: %s for %r: %s", call.TYPE, peer.client, failure.code)
            text = self._error(conn, request.id, failure.code, failure.message)
        except Exception as error:
            logger.error("channel: %s for %r failed: %s", call.TYPE, peer.client,
                         type(error).__name__)
            text = self._error(conn, request.id, INTERNAL, "the service failed")
        if text is not None:
            peer.send(text)

    @staticmethod
    def _error(conn: ServerConnection, request_id: int, code: str, message: str) -> str | None:
        try:
            return conn.send_error(request_id, code, message)
        except ConnectionClosed:
            return None

    async def _tick(self, peer: Peer) -> None:
        """Timeouts and heartbeats of one connection (the protocol decides; we ask)."""
        interval = min(1.0, self._protocol.heartbeat / 4)
        while not peer.closing:
            await asyncio.sleep(interval)
            if peer.busy:
                continue
            now = self._clock()
            for item in peer.conn.poll(now):
                if isinstance(item, HeartbeatDue):
                    peer.send(peer.conn.send_heartbeat(now))
                elif isinstance(item, Close):
                    self._refuse(peer, item)


_OPTIONS: dict[str, Any] = {
    "max_size": MAX_FRAME_BYTES,
    "compression": None,  # small JSON; no per-connection zlib state, no compression oracle
    "close_timeout": CLOSE_TIMEOUT,
}


async def _serve_unix(handler: Callable[[WebSocket], Any], path: Path) -> Server:
    """Serve on the unix socket ``path`` (a stale socket file is replaced), mode 0660."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(path.lstat().st_mode):
            path.unlink()
    server = await unix_serve(handler, str(path), **_OPTIONS)
    os.chmod(path, SOCKET_MODE)
    return server


def _address(ws: WebSocket) -> str:
    remote = ws.remote_address
    if isinstance(remote, tuple) and len(remote) >= 2:
        return f"{remote[0]}:{remote[1]}"
    return "unix socket"


# ---------------------------------------------------------------- the command


def run_channel(settings: Settings | None = None) -> None:
    """Serve the channel on ``channel_host:channel_port`` and ``<sockets>/channel.sock``
    (``LOGIN_SOCKET_DIR``) until SIGTERM or SIGINT (the ``flask-modular-login channel``
    command); with ``LOGIN_METRICS``, publish its gauges (:mod:`..ops.metrics`)."""
    settings = settings or load_settings()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    security_log.connect()
    ensure_socket_dir(settings)
    store = open_store(settings.database_url)
    try:
        ensure_local_credential(store, settings.run_dir)
        services = Services.build(store, keystore.KeyCache(settings.keys_dir).get, settings)
        server = ChannelServer(store, services, settings)
        asyncio.run(_until_signalled(server, settings))
    finally:
        store.dispose()


async def _until_signalled(server: ChannelServer, settings: Settings) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, server.stop)
    reporter = None
    if settings.metrics:  # LOGIN_METRICS: this process's gauges, scraped by the service
        from ..ops import metrics

        metrics.connect()
        reporter = asyncio.create_task(metrics.report_channel(server))
    try:
        await server.serve(settings.channel_host, settings.channel_port,
                           settings.sockets_dir / SOCKET_NAME)
    finally:
        if reporter is not None:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
