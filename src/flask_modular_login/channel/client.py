"""The channel client: what a remote client app runs to reach the login service.

:class:`ChannelClient` keeps one websocket open from a daemon thread with an
event loop of its own, and is used from synchronous code (Flask request
threads): :meth:`ChannelClient.call` is a blocking, thread-safe RPC.

Per connection it authenticates with the client's credential
(:class:`~flask_modular_login.core.protocol.connection.ClientConnection`),
then catches up (:class:`~flask_modular_login.core.protocol.reconnect.CatchUp`):
it asks ``events`` after ``cursor()`` page by page and hands every page to
``on_events`` before it counts as :attr:`~ChannelClient.ready`; pushed events
are then handed over as they come, once each, in cursor order. When the
connection drops it reconnects with exponential backoff and full jitter
(:func:`~flask_modular_login.core.protocol.reconnect.backoff`), logging the
outage once (warning) and the recovery once (info). After a close that needs a
person (4401 wrong credential, 4403 revoked, 4505 version) it keeps retrying at
the backoff cap, logging an error once.

Contracts for the owner (the remote event feed):

* ``on_events(events, now)`` and ``on_reset()`` run on the client's thread,
  never concurrently; they must not call :meth:`~ChannelClient.call`. If
  ``on_events`` raises, the connection is dropped and the events are fetched
  again after ``cursor()`` on the next one, so ``cursor()`` must be the last
  event ``on_events`` applied.
* Trust what you cache from the events only while :attr:`~ChannelClient.ready`.

The client holds its client key (derived from the credential, which it does
not keep) and nothing that can mint a lease.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from websockets.asyncio.client import ClientConnection as WebSocket
from websockets.asyncio.client import connect, unix_connect
from websockets.exceptions import ConnectionClosed as SocketClosed

from ..core.errors import LoginError
from ..core.events import Event
from ..core.protocol.auth import NONCE_BYTES, parse_credential
from ..core.protocol.connection import (
    ClientConnection,
    ClientState,
    Close,
    Reply,
    Send,
    Welcomed,
)
from ..core.protocol.errors import (
    AuthFailed,
    ConnectionClosed,
    Malformed,
    ProtocolError,
    RevokedClient,
    UnsupportedVersion,
    UsageError,
)
from ..core.protocol.messages import (
    AddMember,
    AddMemberResult,
    Call,
    Check,
    CheckResult,
    EnsureGroup,
    EnsureGroupResult,
    Events,
    EventsResult,
    Heartbeat,
    RemoveMember,
    RemoveMemberResult,
    Renew,
    RenewResult,
    Result,
)
from ..core.protocol.reconnect import BACKOFF_CAP_SECONDS, CatchUp, backoff
from ..core.protocol.wire import MAX_MESSAGE_BYTES
from .address import Address, parse_addresses

__all__ = ["ChannelClient", "ChannelUnavailable", "ChannelRpcError", "CURSOR_EXPIRED",
           "NEEDS_A_PERSON"]

logger = logging.getLogger("flask_modular_login.channel")

CURSOR_EXPIRED = "cursor_expired"
NEEDS_A_PERSON = frozenset({AuthFailed.close_code, RevokedClient.close_code,
                            UnsupportedVersion.close_code})
"""Close codes after which retrying soon cannot help: retry at the backoff cap."""
GOING_AWAY = 1001
OPEN_TIMEOUT = 10.0
CLOSE_TIMEOUT = 2.0
JOIN_TIMEOUT = 5.0

EventsHandler = Callable[[list[Event], float], None]


class ChannelUnavailable(LoginError, ConnectionError):
    """The channel is not connected, or no answer came in time: fail closed."""

    code = "channel_unavailable"


class ChannelRpcError(LoginError):
    """The service answered a request with error ``code`` (docs/protocol.md, "Error codes")."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


@dataclass(eq=False)
class _Session:
    """One connection: its websocket, protocol state, catch-up, requests awaiting replies."""

    ws: WebSocket
    conn: ClientConnection
    catch_up: CatchUp
    pending: dict[int, asyncio.Future[Reply]] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    welcomed: bool = False

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def end(self) -> None:
        self.catch_up.disconnected()
        for task in list(self.tasks):
            task.cancel()
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ChannelUnavailable("the channel closed"))
        self.pending.clear()


class ChannelClient:
    """A remote client app's channel to the login service (see the module docstring).

    ``uri``: ``ws://host:port``, ``wss://host:port`` or ``unix:/path``; or several
    (a sequence, or one string with commas between them), one per login-service
    host: a connection that fails moves on to the next address at once, and the
    backoff grows only after every address failed in turn.
    ``credential``: ``NAME.SECRET`` as printed by ``clients add NAME``.
    ``on_events(events, now)``: apply events (oldest first). ``cursor()``: the
    last event applied (0 at first). ``on_reset()``: forget every cached group
    answer (the service dropped events this client had not read). ``rng``: the
    backoff's jitter.
    """

    def __init__(self, uri: str | Sequence[str], credential: str, *, on_events: EventsHandler,
                 cursor: Callable[[], int], clock: Callable[[], float] = time.time,
                 on_reset: Callable[[], None] | None = None,
                 rng: Callable[[], float] = random.random) -> None:
        self.addresses: tuple[Address, ...] = parse_addresses(uri)
        self._current = 0
        self._name, self._key = parse_credential(credential)
        self._on_events = on_events
        self._cursor = cursor
        self._on_reset = on_reset
        self._clock = clock
        self._rng = rng
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._main: asyncio.Task[None] | None = None
        self._session: _Session | None = None
        self._ready = threading.Event()
        self._closing = False
        self._down_since: float | None = None
        self._ever_ready = False
        self._person_needed_logged = False
        self.last_close_code: int | None = None
        """The close code of the last connection that ended (None before any ended)."""

    def __repr__(self) -> str:
        return f"<ChannelClient {self._name!r} to {self.address}>"

    # ------------------------------------------------------------ public, any thread

    @property
    def name(self) -> str:
        return self._name

    @property
    def address(self) -> Address:
        """The address connected to, or to be tried next."""
        return self.addresses[self._current]

    @property
    def connected(self) -> bool:
        """The handshake is done and the service was heard from recently enough."""
        session = self._session
        return session is not None and session.conn.fresh(self._clock())

    @property
    def ready(self) -> bool:
        """Connected and caught up: what the events brought may be trusted."""
        return self._ready.is_set() and self.connected

    def start(self) -> None:
        """Connect from a daemon thread (returns at once; see :meth:`wait_ready`)."""
        if self._thread is not None:
            return
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._main = loop.create_task(self._run())
        self._thread = threading.Thread(target=self._thread_main, daemon=True,
                                        name=f"login-channel-{self._name}")
        self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until :attr:`ready` (True) or ``timeout`` seconds (False)."""
        return self._ready.wait(timeout) and self.ready

    # One overload per RPC: the result type follows from the call's ``RESULT``.
    @overload
    def call(self, call: Renew, timeout: float = ...) -> RenewResult: ...
    @overload
    def call(self, call: Check, timeout: float = ...) -> CheckResult: ...
    @overload
    def call(self, call: EnsureGroup, timeout: float = ...) -> EnsureGroupResult: ...
    @overload
    def call(self, call: AddMember, timeout: float = ...) -> AddMemberResult: ...
    @overload
    def call(self, call: RemoveMember, timeout: float = ...) -> RemoveMemberResult: ...
    @overload
    def call(self, call: Events, timeout: float = ...) -> EventsResult: ...

    def call(self, call: Call, timeout: float = 5.0) -> Result:
        """Send ``call`` and return its result (thread-safe, blocking).

        Raises :class:`ChannelUnavailable` when not connected or after ``timeout``
        seconds, :class:`ChannelRpcError` when the service answers with an error
        (or the call is invalid, e.g. ``bad_field``: nothing is sent then).
        """
        loop, session = self._loop, self._session
        if loop is None or session is None or self._closing or not self.connected:
            raise ChannelUnavailable("the channel is not connected")
        if threading.current_thread() is self._thread:
            raise RuntimeError("call() blocks: never call it from on_events or on_reset")
        coroutine = self._request(session, call)
        try:
            future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        except RuntimeError:  # the loop closed meanwhile
            coroutine.close()
            raise ChannelUnavailable("the channel is closed") from None
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ChannelUnavailable(f"no answer within {timeout:g} s") from None
        except concurrent.futures.CancelledError:
            raise ChannelUnavailable("the channel closed") from None

    def close(self) -> None:
        """Close the connection (1001) and stop the thread; the client cannot be restarted."""
        self._closing = True
        loop, main, thread = self._loop, self._main, self._thread
        if loop is not None and main is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(main.cancel)
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT)
        self._ready.clear()

    # ------------------------------------------------------------ the thread

    def _thread_main(self) -> None:
        loop, main = self._loop, self._main
        assert loop is not None and main is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main)
        except asyncio.CancelledError:
            pass
        finally:
            remaining = asyncio.all_tasks(loop)
            for task in remaining:
                task.cancel()
            if remaining:
                loop.run_until_complete(asyncio.gather(*remaining, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    async def _run(self) -> None:
        """Connect, serve, reconnect with backoff; until cancelled by :meth:`close`."""
        failures = 0  # connections in a row that were not welcomed
        while not self._closing:
            welcomed, code = False, None
            try:
                welcomed, code, reason = await self._connection()
            except Exception as error:  # refused, unreachable, a broken answer: retry
                reason = _describe(error)
            if self._closing:
                return
            self._down(code, reason)
            await asyncio.sleep(self._pause(welcomed, code, failures))
            failures = 0 if welcomed else failures + 1

    def _pause(self, welcomed: bool, code: int | None, failures: int) -> float:
        """Seconds to wait before the next attempt. A host that failed is left for the next
        address at once; the backoff runs once every address failed in turn."""
        if code in NEEDS_A_PERSON:
            return BACKOFF_CAP_SECONDS
        if welcomed:  # a connection that worked ended: the same host first, soon
            return backoff(0, self._rng)
        self._current = (self._current + 1) % len(self.addresses)
        rounds, position = divmod(failures + 1, len(self.addresses))
        return backoff(rounds, self._rng) if position == 0 else 0.0

    async def _connection(self) -> tuple[bool, int | None, str]:
        """One connection, from opening to close: whether it was welcomed, the close code
        received (or sent), why it ended."""
        async with self._open() as ws:
            conn = ClientConnection(self._name, self._key, secrets.token_bytes(NONCE_BYTES),
                                    self._clock())
            session = _Session(ws, conn, CatchUp(self._cursor()))
            session.spawn(self._tick(session))
            code: int | None = None
            try:
                while True:  # until closed, also after we asked to close: see _close
                    try:
                        data = await ws.recv()
                    except SocketClosed as closed:
                        code = closed.rcvd.code if closed.rcvd else 1006
                        self.last_close_code = code  # before `connected` turns False
                        break
                    if conn.state is not ClientState.CLOSED:
                        await self._receive(session, data)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(GOING_AWAY, "client app stopping"),
                                           CLOSE_TIMEOUT)
                raise
            finally:
                self._session = None
                self._ready.clear()
                session.end()
            if code is None:
                code = conn.close_code
            self.last_close_code = code
            return session.welcomed, code, _closed_reason(code, ws)

    def _open(self) -> Any:
        options: dict[str, Any] = {"max_size": MAX_MESSAGE_BYTES, "compression": None,
                                   "open_timeout": OPEN_TIMEOUT, "close_timeout": CLOSE_TIMEOUT}
        if self.address.unix_path is not None:
            return unix_connect(self.address.unix_path, self.address.uri, **options)
        return connect(self.address.uri, **options)

    # ------------------------------------------------------------ one connection

    async def _receive(self, session: _Session, data: str | bytes) -> None:
        conn = session.conn
        if isinstance(data, bytes):
            items: list[Any] = [conn.fail(Malformed("binary message from the server"))]
        else:
            items = conn.receive_data(data, self._clock())
        for item in items:
            if isinstance(item, Send):
                await session.ws.send(item.text)
            elif isinstance(item, Welcomed):
                self._welcomed(session, item)
            elif isinstance(item, Reply):
                future = session.pending.pop(item.id, None)
                if future is not None and not future.done():
                    future.set_result(item)
            elif isinstance(item, Event):
                if session.catch_up.pushed(item):
                    self._deliver(session, [item])
            elif isinstance(item, Heartbeat):
                request = session.catch_up.heartbeat(item.cursor)
                if request is not None:
                    self._ready.clear()
                    session.spawn(self._catch_up(session, request))
            elif isinstance(item, Close):
                session.spawn(self._close(session, item))

    def _welcomed(self, session: _Session, welcomed: Welcomed) -> None:
        session.welcomed = True
        self._session = session
        self._person_needed_logged = False
        session.spawn(self._catch_up(session, session.catch_up.connected(welcomed.cursor)))

    async def _catch_up(self, session: _Session, request: Events | None) -> None:
        """Ask for events page by page until caught up, then count as ready."""
        try:
            while request is not None:
                try:
                    result = await self._request(session, request)
                except ChannelRpcError as error:
                    if error.code != CURSOR_EXPIRED:
                        raise
                    if self._on_reset is not None:
                        self._on_reset()
                    request = session.catch_up.expired()
                    continue
                events, request = session.catch_up.page(result)  # type: ignore[arg-type]
                if events:
                    self._deliver(session, list(events))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.warning("channel to %s: catching up failed: %s", self.address,
                           _describe(error))
            await self._close(session, session.conn.close(1011, "catching up failed"))
            return
        if session.catch_up.live and session.conn.state is ClientState.OPEN:
            self._ready.set()
            self._up()

    def _deliver(self, session: _Session, events: list[Event]) -> None:
        """Hand ``events`` to the owner; if it fails, drop the connection (they come again)."""
        try:
            self._on_events(events, self._clock())
        except Exception as error:
            logger.error("channel to %s: applying events failed: %s", self.address,
                         type(error).__name__)
            session.catch_up.disconnected()
            raise ChannelUnavailable("applying events failed") from error

    async def _request(self, session: _Session, call: Call) -> Result:
        try:
            request_id, text = session.conn.send_request(call)
        except ProtocolError as error:
            raise ChannelRpcError(error.code, str(error)) from None
        except (UsageError, ConnectionClosed):
            raise ChannelUnavailable("the channel is not open") from None
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        session.pending[request_id] = future
        try:
            await session.ws.send(text)
            reply = await future
        except SocketClosed:
            raise ChannelUnavailable("the channel closed") from None
        finally:
            session.pending.pop(request_id, None)
        if reply.error is not None:
            raise ChannelRpcError(reply.error.code, reply.error.message)
        assert reply.result is not None
        return reply.result

    async def _close(self, session: _Session, close: Close) -> None:
        """Close the websocket; run it beside the reading loop, which must go on reading
        until the server's close frame arrives."""
        if close.error is not None:
            logger.warning("channel to %s: closing (%d): %s", self.address, close.code,
                           close.reason)
        with contextlib.suppress(Exception):
            await session.ws.close(close.code, close.reason)

    async def _tick(self, session: _Session) -> None:
        """Timeouts: the handshake's, and the server's silence (the protocol decides)."""
        while session.conn.state is not ClientState.CLOSED:
            heartbeat = session.conn.heartbeat
            await asyncio.sleep(0.25 if heartbeat is None else min(1.0, heartbeat / 4))
            for item in session.conn.poll(self._clock()):
                if isinstance(item, Close):
                    await self._close(session, item)

    # ------------------------------------------------------------ logging the outage

    def _down(self, code: int | None, reason: str) -> None:
        if code in NEEDS_A_PERSON and not self._person_needed_logged:
            logger.error("channel to %s refused this client (%s): %s; retrying every %g s",
                         self.address, code, _NEEDS[code], BACKOFF_CAP_SECONDS)
            self._person_needed_logged = True
        if self._down_since is None:
            self._down_since = time.monotonic()
            logger.warning("channel to %s is down: %s; reconnecting", self.address, reason)
        else:
            logger.debug("channel to %s: still down: %s", self.address, reason)

    def _up(self) -> None:
        if self._down_since is not None:
            logger.info("channel to %s is back after %.1f s", self.address,
                        time.monotonic() - self._down_since)
            self._down_since = None
        elif not self._ever_ready:
            logger.info("channel to %s is up", self.address)
        self._ever_ready = True


_NEEDS = {AuthFailed.close_code: "check the credential",
          RevokedClient.close_code: "the client was revoked",
          UnsupportedVersion.close_code: "upgrade the client"}


def _closed_reason(code: int | None, ws: WebSocket) -> str:
    reason = ws.close_reason or ""
    return f"closed with {code}" + (f" ({reason[:120]})" if reason else "")


def _describe(error: BaseException) -> str:
    """What went wrong, without the message of errors that might echo data."""
    if isinstance(error, (OSError, asyncio.TimeoutError)):
        return f"{type(error).__name__}: {error}"[:200]
    return type(error).__name__
