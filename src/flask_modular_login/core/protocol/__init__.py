"""The channel protocol, sans I/O: how client apps on other hosts talk to the login service.

Pure like the rest of ``core``: no sockets, no asyncio, no clock (callers pass
``now``), no randomness (callers pass nonces and an ``rng``). The websocket
server and client call into it; it never calls out, except for the client
look-up the server side is given. The specification for implementers in any
language is docs/protocol.md.

* :mod:`.messages`: the messages, :func:`encode` and :func:`decode`;
* :mod:`.expressions`: the JSON form of access expressions;
* :mod:`.auth`: credentials, client keys, handshake proofs;
* :mod:`.connection`: :class:`ServerConnection` and :class:`ClientConnection`;
* :mod:`.reconnect`: :func:`backoff` and :class:`CatchUp`;
* :mod:`.errors`: every refusal, with its code and websocket close code.
"""

from ..events import Event
from .auth import (
    ClientLookup,
    ClientRecord,
    auth_input,
    auth_proof,
    client_key,
    new_credential,
    parse_credential,
    welcome_input,
    welcome_proof,
)
from .connection import (
    Authenticated,
    ClientConnection,
    ClientState,
    Close,
    HeartbeatDue,
    Reply,
    Send,
    ServerConnection,
    ServerSettings,
    ServerState,
    TokenBucket,
    Welcomed,
    silence_limit,
)
from .errors import (
    CLOSE_CODES,
    AuthFailed,
    BadField,
    ConnectionClosed,
    Flood,
    Internal,
    Malformed,
    ProtocolError,
    Replayed,
    RevokedClient,
    Stale,
    Timeout,
    TooLarge,
    Unexpected,
    UnknownType,
    UnsupportedVersion,
    UsageError,
    close_code_for,
)
from .expressions import expression_from_json, expression_to_json
from .messages import (
    CALLS,
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
    AddMember,
    AddMemberResult,
    Auth,
    Call,
    Check,
    CheckResult,
    EnsureGroup,
    EnsureGroupResult,
    Events,
    EventsResult,
    Heartbeat,
    Hello,
    Message,
    RemoveMember,
    RemoveMemberResult,
    Renew,
    RenewResult,
    Request,
    Response,
    Result,
    RpcError,
    Welcome,
    decode,
    encode,
    events_page,
    parse_result,
    result_to_json,
)
from .reconnect import CatchUp, FeedState, backoff
from .wire import MAX_MESSAGE_BYTES

__all__ = [
    "MAX_MESSAGE_BYTES", "PROTOCOL_VERSION", "SUPPORTED_VERSIONS", "CALLS", "CLOSE_CODES",
    # messages
    "Message", "Event", "Hello", "Auth", "Welcome", "Heartbeat", "Response", "RpcError", "Request",
    "Call", "Renew", "Check", "EnsureGroup", "AddMember", "RemoveMember", "Events",
    "Result", "RenewResult", "CheckResult", "EnsureGroupResult", "AddMemberResult",
    "RemoveMemberResult", "EventsResult", "encode", "decode", "parse_result",
    "result_to_json", "events_page", "expression_to_json", "expression_from_json",
    # auth
    "ClientRecord", "ClientLookup", "new_credential", "parse_credential", "client_key",
    "auth_input", "welcome_input", "auth_proof", "welcome_proof",
    # connections
    "ServerConnection", "ClientConnection", "ServerSettings", "ServerState", "ClientState",
    "Send", "Close", "Authenticated", "HeartbeatDue", "Welcomed", "Reply", "TokenBucket",
    "silence_limit",
    # reconnecting
    "backoff", "CatchUp", "FeedState",
    # errors
    "ProtocolError", "Malformed", "AuthFailed", "RevokedClient", "Unexpected", "Stale",
    "Replayed", "TooLarge", "BadField", "Flood", "Internal", "UnknownType", "Timeout",
    "UnsupportedVersion", "ConnectionClosed", "UsageError", "close_code_for",
]
