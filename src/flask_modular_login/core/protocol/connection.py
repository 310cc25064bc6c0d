"""Sans-I/O state machines for both ends of the channel, in the style of python-websockets.

The I/O layer owns the socket and the clock; a connection object owns the
protocol. Feed every received websocket message to ``receive_data(data, now)``
and act on the list it returns, in order:

* :class:`Send`: send ``text`` as one websocket text message;
* :class:`Close`: close the websocket with ``code`` and ``reason``, then drop
  the connection (after a Close, ``receive_data`` returns ``[]``);
* anything else is for the layer above (an authenticated client, a request,
  a reply, an event, a heartbeat).

``receive_data`` never raises: every refusal becomes a final :class:`Close`
carrying the :class:`~.errors.ProtocolError`. The ``send_*`` methods return the
text to send; they raise :class:`~.errors.ConnectionClosed` once closed and
:class:`~.errors.UsageError` when called out of order (a bug in the caller).
Call ``poll(now)`` from a timer (about once a second) for timeouts and heartbeats.

::

    ServerConnection  awaiting_auth --auth ok--> open --> closed
    ClientConnection  awaiting_hello --hello--> awaiting_welcome --welcome ok--> open --> closed
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TypeVar

from ..events import Event
from .auth import (
    ClientLookup,
    ClientRecord,
    auth_proof,
    check_name,
    check_nonce,
    parse_credential,
    proofs_match,
    welcome_proof,
)
from .errors import (
    AuthFailed,
    BadField,
    ConnectionClosed,
    Flood,
    Internal,
    ProtocolError,
    Replayed,
    RevokedClient,
    Stale,
    Timeout,
    Unexpected,
    UnsupportedVersion,
    UsageError,
)
from .messages import (
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
    Auth,
    Call,
    Heartbeat,
    Hello,
    Request,
    Response,
    Result,
    RpcError,
    Welcome,
    decode,
    encode,
    parse_result,
    result_to_json,
)

__all__ = ["Send", "Close", "Authenticated", "HeartbeatDue", "Welcomed", "Reply",
           "TokenBucket", "ServerSettings", "ServerState", "ClientState", "ServerConnection",
           "ClientConnection", "silence_limit", "AUTH_TIMEOUT_SECONDS", "HEARTBEAT_SECONDS",
           "MAX_SKEW_SECONDS"]

AUTH_TIMEOUT_SECONDS = 10.0
HEARTBEAT_SECONDS = 2.0
MAX_SKEW_SECONDS = 30.0
_MAX_REASON_BYTES = 123
_DUMMY_KEY = bytes(32)
M = TypeVar("M")


# ---------------------------------------------------------------- what comes out


@dataclass(frozen=True)
class Send:
    """Send ``text`` as one websocket text message."""

    text: str


@dataclass(frozen=True)
class Close:
    """Close the websocket with ``code`` and ``reason``; ``error`` says why (None: asked to)."""

    code: int
    reason: str
    error: ProtocolError | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Authenticated:
    """Server: ``client`` proved its key; answer with :meth:`ServerConnection.send_welcome`."""

    client: str


@dataclass(frozen=True)
class HeartbeatDue:
    """Server: send :meth:`ServerConnection.send_heartbeat` now."""


@dataclass(frozen=True)
class Welcomed:
    """Client: the server proved its key; the log stood at ``cursor`` when it welcomed us."""

    cursor: int
    heartbeat: float


@dataclass(frozen=True)
class Reply:
    """Client: the answer to request ``id`` (``call``): ``result`` or ``error``."""

    id: int
    call: Call
    result: Result | None
    error: RpcError | None


def silence_limit(heartbeat: float) -> float:
    """How long a client may hear nothing before the channel counts as down."""
    return 2 * heartbeat + 1


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` banked; starts full at ``now``."""

    def __init__(self, rate: float = 2000.0, burst: float = 4000.0, now: float = 0.0) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate, self.burst = rate, burst
        self._tokens, self._updated = burst, now

    def take(self, now: float) -> bool:
        """Spend one token if there is one (time never runs backwards here)."""
        if now > self._updated:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


@dataclass(frozen=True)
class ServerSettings:
    """Limits of the server side; the defaults are what docs/protocol.md states."""

    heartbeat: float = HEARTBEAT_SECONDS
    max_skew: float = MAX_SKEW_SECONDS
    auth_timeout: float = AUTH_TIMEOUT_SECONDS
    rate: float = 2000.0
    burst: float = 4000.0
    max_in_flight: int = 1024


class ServerState(enum.Enum):
    AWAITING_AUTH = "awaiting_auth"
    OPEN = "open"
    CLOSED = "closed"


class ClientState(enum.Enum):
    AWAITING_HELLO = "awaiting_hello"
    AWAITING_WELCOME = "awaiting_welcome"
    OPEN = "open"
    CLOSED = "closed"


class _Connection:
    """What both ends share: closing, once, with a code."""

    state: ServerState | ClientState

    def __init__(self) -> None:
        self._close: Close | None = None

    @property
    def close_code(self) -> int | None:
        """The code this side closed with (None while open)."""
        return None if self._close is None else self._close.code

    @property
    def error(self) -> ProtocolError | None:
        """The refusal that closed the connection, if one did."""
        return None if self._close is None else self._close.error

    def close(self, code: int = 1000, reason: str = "") -> Close:
        """Close for a reason of our own (1000: done, 1001: going away); idempotent."""
        return self._closing(Close(code, _reason(reason)))

    def fail(self, error: ProtocolError) -> Close:
        """Close because of ``error`` (e.g. ``Malformed`` for a binary message); idempotent."""
        return self._closing(Close(error.close_code, _reason(f"{error.code}: {error}"), error))

    def _closing(self, close: Close) -> Close:
        if self._close is None:
            self._close = close
            self.state = type(self.state).CLOSED
        return self._close

    def _sendable(self) -> None:
        if self._close is not None:
            raise ConnectionClosed("the connection is closed")


def _reason(text: str) -> str:
    return text.encode("utf-8")[:_MAX_REASON_BYTES].decode("utf-8", "ignore")


# ---------------------------------------------------------------- server


ServerItem = Authenticated | Request | HeartbeatDue | Close


class ServerConnection(_Connection):
    """The service's end of one connection.

    ``nonce``: 32 fresh random bytes from the I/O layer (16 to 64 allowed), this
    connection's only nonce. ``lookup(name)`` finds a client's stored record.
    Send :meth:`hello` first; after :class:`Authenticated`, :meth:`send_welcome`.
    """

    def __init__(self, nonce: bytes, now: float, lookup: ClientLookup,
                 settings: ServerSettings | None = None) -> None:
        super().__init__()
        self.nonce = check_nonce(nonce)
        self.settings = settings or ServerSettings()
        self.state: ServerState = ServerState.AWAITING_AUTH
        self.client: str | None = None
        self._lookup = lookup
        self._started = now
        self._bucket = TokenBucket(self.settings.rate, self.settings.burst, now)
        self._hello = encode(Hello(self.nonce, int(now), SUPPORTED_VERSIONS))
        self._auth: Auth | None = None
        self._key = b""
        self._welcomed = False
        self._pushed = 0
        self._next_heartbeat = now
        self._in_flight: dict[int, type[Call]] = {}

    @property
    def in_flight(self) -> frozenset[int]:
        """Ids of requests received and not yet answered."""
        return frozenset(self._in_flight)

    def hello(self) -> str:
        """The ``hello`` message to send as soon as the websocket is open (always the same)."""
        return self._hello

    def receive_data(self, data: str | bytes, now: float) -> list[ServerItem]:
        """Take one message from the client: ``[Authenticated]``, ``[Request]`` or ``[Close]``."""
        if self.state is ServerState.CLOSED:
            return []
        try:
            return [self._receive(data, now)]
        except ProtocolError as error:
            return [self.fail(error)]

    def _receive(self, data: str | bytes, now: float) -> Authenticated | Request:
        if not self._bucket.take(now):
            raise Flood(f"more than {self.settings.rate:g} messages a second")
        message = decode(data, "client")
        if isinstance(message, Auth):
            return self._authenticate(message, now)
        if self.state is ServerState.AWAITING_AUTH:
            raise Unexpected("the first message must be auth")
        assert isinstance(message, Request)  # decode gives nothing else from a client
        return self._request(message)

    def _authenticate(self, auth: Auth, now: float) -> Authenticated:
        if self.state is not ServerState.AWAITING_AUTH:
            raise Replayed("this connection's nonce was already used by an accepted auth")
        if auth.nonce != self.nonce:
            raise Replayed("this auth answers another connection's hello")
        if abs(auth.time - now) > self.settings.max_skew:
            raise Stale(f"auth time is {auth.time - now:+.0f} s from the server's clock "
                        f"(at most {self.settings.max_skew:g} s allowed)")
        record = self._find(auth.client)
        key = record.key if record is not None else _DUMMY_KEY
        expected = auth_proof(key, self.nonce, auth.client_nonce, auth.client, auth.time)
        if not proofs_match(expected, auth.proof) or record is None:
            raise AuthFailed("unknown client or wrong proof")
        if record.revoked:
            raise RevokedClient(f"client {auth.client!r} was revoked")
        self.state, self.client, self._auth, self._key = ServerState.OPEN, auth.client, auth, key
        self._next_heartbeat = now + self.settings.heartbeat
        return Authenticated(auth.client)

    def _find(self, name: str) -> ClientRecord | None:
        try:
            record = self._lookup(name)
        except Exception as error:
            raise Internal("the client registry cannot be read") from error
        return record if record is not None and record.name == name else None

    def _request(self, request: Request) -> Request:
        if request.id in self._in_flight:
            raise BadField(f"request id {request.id} is already in flight")
        if len(self._in_flight) >= self.settings.max_in_flight:
            raise Flood(f"more than {self.settings.max_in_flight} requests in flight")
        self._in_flight[request.id] = type(request.call)
        return request

    def send_welcome(self, cursor: int) -> str:
        """The ``welcome`` (once, after :class:`Authenticated`); ``cursor``: the log's newest."""
        self._sendable()
        if self._auth is None or self._welcomed:
            raise UsageError("welcome goes once, after the client authenticated")
        auth = self._auth
        proof = welcome_proof(self._key, self.nonce, auth.client_nonce, auth.client, auth.time)
        text = encode(Welcome(cursor, self.settings.heartbeat, auth.client_nonce, proof))
        self._welcomed, self._pushed = True, cursor
        return text

    def send_result(self, request_id: int, result: Result) -> str:
        """Answer request ``request_id`` with ``result`` (of the type its call returns)."""
        call = self._answering(request_id)
        if type(result) is not call.RESULT:
            raise UsageError(f"{call.TYPE} returns {call.RESULT.__name__}, "
                             f"not {type(result).__name__}")
        return self._answer(request_id, Response(request_id, result=result_to_json(result)))

    def send_error(self, request_id: int, code: str, message: str = "") -> str:
        """Answer request ``request_id`` with error ``code`` (e.g. ``session_ended``)."""
        self._answering(request_id)
        return self._answer(request_id, Response(request_id, error=RpcError(code, message)))

    def _answering(self, request_id: int) -> type[Call]:
        self._open_for_sending()
        if request_id not in self._in_flight:
            raise UsageError(f"no request {request_id} is waiting for an answer")
        return self._in_flight[request_id]

    def _answer(self, request_id: int, response: Response) -> str:
        text = encode(response)  # raises before the request is forgotten
        del self._in_flight[request_id]
        return text

    def send_event(self, event: Event, text: str | None = None) -> str:
        """Push one event. Push every event after the welcome's cursor, once, in cursor order:
        clients rely on it. ``text``: the event already encoded (``encode(event)``), when the
        same event goes to many connections: the hub encodes it once for all of them."""
        self._open_for_sending()
        text = encode(event) if text is None else text
        self._pushed = max(self._pushed, event.cursor)
        return text

    def send_heartbeat(self, now: float, cursor: int | None = None) -> str:
        """The heartbeat, naming the newest cursor pushed here (or the welcome's).

        The connection records what went through :meth:`send_event`; a ``cursor``
        passed in only raises that (a higher one costs the client a catch-up, never
        an event).
        """
        self._open_for_sending()
        self._next_heartbeat = now + self.settings.heartbeat
        return encode(Heartbeat(now, max(self._pushed, cursor or 0)))

    def _open_for_sending(self) -> None:
        self._sendable()
        if not self._welcomed:
            raise UsageError("send the welcome first")

    def poll(self, now: float) -> list[ServerItem]:
        """``[Close]`` if no auth came in time, ``[HeartbeatDue]`` when one is due, else ``[]``."""
        if self.state is ServerState.AWAITING_AUTH and now >= (
                self._started + self.settings.auth_timeout):
            return [self.fail(Timeout(f"no auth within {self.settings.auth_timeout:g} s"))]
        if self.state is ServerState.OPEN and self._welcomed and now >= self._next_heartbeat:
            return [HeartbeatDue()]
        return []


# ---------------------------------------------------------------- client


ClientItem = Send | Welcomed | Reply | Event | Heartbeat | Close


class ClientConnection(_Connection):
    """A client app's end of one connection.

    ``key``: the client key (see :func:`~.auth.parse_credential`); ``nonce``: 32
    fresh random bytes for this connection. Wait for the server's hello: the
    client speaks only after it.
    """

    def __init__(self, name: str, key: bytes, nonce: bytes, now: float,
                 auth_timeout: float = AUTH_TIMEOUT_SECONDS) -> None:
        super().__init__()
        self.name, self.nonce = check_name(name), check_nonce(nonce)
        if not isinstance(key, bytes) or len(key) < 16:
            raise ValueError("the client key is at least 16 bytes")
        self.state: ClientState = ClientState.AWAITING_HELLO
        self.cursor: int | None = None
        self.heartbeat: float | None = None
        self._key, self._started, self._auth_timeout = key, now, auth_timeout
        self._last_heard = now
        self._server_nonce = b""
        self._time = 0
        self._next_id = 1
        self._in_flight: dict[int, Call] = {}

    @classmethod
    def from_credential(cls, credential: str, nonce: bytes, now: float) -> ClientConnection:
        """A connection for the client named in ``credential`` (``NAME.SECRET``)."""
        name, key = parse_credential(credential)
        return cls(name, key, nonce, now)

    @property
    def in_flight(self) -> dict[int, Call]:
        """Requests sent and not yet answered, by id (a copy)."""
        return dict(self._in_flight)

    def receive_data(self, data: str | bytes, now: float) -> list[ClientItem]:
        """Take one message from the server; see the module docstring for what comes out."""
        if self.state is ClientState.CLOSED:
            return []
        try:
            return [self._receive(data, now)]
        except ProtocolError as error:
            return [self.fail(error)]

    def _receive(self, data: str | bytes, now: float) -> ClientItem:
        message = decode(data, "server")
        self._last_heard = now
        if self.state is ClientState.AWAITING_HELLO:
            return self._answer_hello(_expect(message, Hello), now)
        if self.state is ClientState.AWAITING_WELCOME:
            return self._check_welcome(_expect(message, Welcome))
        if isinstance(message, Response):
            return self._reply(message)
        if isinstance(message, (Event, Heartbeat)):
            return message
        raise Unexpected(f"{type(message).__name__.lower()} after the handshake")

    def _answer_hello(self, hello: Hello, now: float) -> Send:
        if PROTOCOL_VERSION not in hello.versions:
            raise UnsupportedVersion(f"the server speaks {list(hello.versions)}; this client "
                                     f"speaks {PROTOCOL_VERSION}")
        self._server_nonce, self._time = hello.nonce, int(now)
        proof = auth_proof(self._key, hello.nonce, self.nonce, self.name, self._time)
        text = encode(Auth(self.name, hello.nonce, self.nonce, self._time, proof))
        self.state = ClientState.AWAITING_WELCOME
        return Send(text)

    def _check_welcome(self, welcome: Welcome) -> Welcomed:
        expected = welcome_proof(self._key, self._server_nonce, self.nonce, self.name,
                                 self._time)
        if welcome.client_nonce != self.nonce or not proofs_match(expected, welcome.proof):
            raise AuthFailed("the server did not prove it holds this client's key")
        self.state = ClientState.OPEN
        self.cursor, self.heartbeat = welcome.cursor, welcome.heartbeat
        return Welcomed(welcome.cursor, welcome.heartbeat)

    def _reply(self, response: Response) -> Reply:
        call = self._in_flight.get(response.id)
        if call is None:
            raise BadField(f"response to request {response.id}, which is not in flight")
        result = None if response.result is None else parse_result(call, response.result)
        del self._in_flight[response.id]
        return Reply(response.id, call, result, response.error)

    def send_request(self, call: Call) -> tuple[int, str]:
        """``(id, text)`` of a new request; raises (and sends nothing) if ``call`` is invalid."""
        self._sendable()
        if self.state is not ClientState.OPEN:
            raise UsageError("requests wait for the welcome")
        request_id = self._next_id
        text = encode(Request(request_id, call))
        self._next_id += 1
        self._in_flight[request_id] = call
        return request_id, text

    def fresh(self, now: float) -> bool:
        """Whether the channel is open and the server was heard from recently enough to trust
        what the client caches (see :func:`silence_limit`)."""
        return self.state is ClientState.OPEN and now < self._last_heard + silence_limit(
            self.heartbeat or 0.0)

    def poll(self, now: float) -> list[ClientItem]:
        """``[Close]`` when the handshake or the server's silence took too long, else ``[]``."""
        if self.state in (ClientState.AWAITING_HELLO, ClientState.AWAITING_WELCOME):
            if now >= self._started + self._auth_timeout:
                return [self.fail(Timeout(f"no handshake within {self._auth_timeout:g} s"))]
        elif self.state is ClientState.OPEN and not self.fresh(now):
            return [self.fail(Timeout("the server fell silent"))]
        return []


def _expect(message: object, cls: type[M]) -> M:
    if not isinstance(message, cls):
        raise Unexpected(f"expected {cls.__name__.lower()}, got {type(message).__name__.lower()}")
    return message
