"""The messages of channel protocol version 1 and their strict JSON form.

Every message is a JSON object ``{"v": 1, "type": ..., <fields>}``. :func:`decode`
turns one received message into a dataclass, or raises a
:class:`~.errors.ProtocolError` (checked in this order: size, UTF-8, JSON
object, ``v``, ``type``, direction, fields); :func:`encode` writes one and
refuses to write anything :func:`decode` would refuse.

From the server: :class:`Hello`, :class:`Welcome`, :class:`Response`,
:class:`~flask_modular_login.core.events.Event` (type ``event``),
:class:`Heartbeat`. From the client: :class:`Auth` and :class:`Request`, whose
``call`` is one of the RPCs :class:`Renew`, :class:`Check`,
:class:`EnsureGroup`, :class:`AddMember`, :class:`RemoveMember`,
:class:`Events` (the call's name is the message's ``type``). A
:class:`Response` carries the raw ``result`` object; :func:`parse_result`
checks it against the call it answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from ..events import MEMBERSHIP_KINDS, REVOKED, Event
from ..groups import Expression, GroupPath
from ..invitations import Grant, InviteError, Removal
from . import wire
from .auth import MAX_NONCE_BYTES, MIN_NONCE_BYTES, NAME_PATTERN
from .errors import BadField, Malformed, Unexpected, UnknownType, UnsupportedVersion
from .expressions import (
    MAX_EXPRESSION_PATHS,
    expression_from_json,
    expression_to_json,
    path_from_json,
)

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS: tuple[int, ...] = (1,)
MAX_TOKEN_CHARS = 4096
MAX_ID_CHARS = 256
"""User ids, session ids, providers and subjects."""
MAX_ERROR_MESSAGE_CHARS = 1024
MAX_EVENTS_LIMIT = 1000
MIN_HEARTBEAT_SECONDS = 0.1
MAX_HEARTBEAT_SECONDS = 300.0
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}", re.ASCII)
_REMOVALS = {removal.name.lower(): removal for removal in Removal}

Sender = Literal["client", "server"]


# ---------------------------------------------------------------- messages


@dataclass(frozen=True)
class Hello:
    """Server, first: the connection's nonce, the server's clock, the versions it speaks."""

    nonce: bytes
    time: int
    versions: tuple[int, ...] = SUPPORTED_VERSIONS


@dataclass(frozen=True)
class Auth:
    """Client, answering hello: who it is and the proof it holds the client key."""

    client: str
    nonce: bytes
    client_nonce: bytes
    time: int
    proof: str = field(repr=False)


@dataclass(frozen=True)
class Welcome:
    """Server, after a good auth: where the event log stands, and its own proof."""

    cursor: int
    heartbeat: float
    client_nonce: bytes
    proof: str = field(repr=False)


@dataclass(frozen=True)
class Heartbeat:
    """Server, every ``heartbeat`` seconds of silence: its clock and newest cursor."""

    time: float
    cursor: int


@dataclass(frozen=True)
class RpcError:
    """Why one RPC failed; the connection stays open."""

    code: str
    message: str


@dataclass(frozen=True)
class Response:
    """Server: the answer to request ``id``: ``result`` (raw object) or ``error``."""

    id: int
    result: Mapping[str, Any] | None = None
    error: RpcError | None = None


# -- RPC calls and their results ---------------------------------------------------------


@dataclass(frozen=True)
class RenewResult:
    token: str


@dataclass(frozen=True)
class CheckResult:
    """``via``: str(path) -> str(granting group) or None; ``until``: when the answer ends."""

    allowed: bool
    via: Mapping[str, str | None] = field(default_factory=dict)
    until: float | None = None


@dataclass(frozen=True)
class EnsureGroupResult:
    owns: bool


@dataclass(frozen=True)
class AddMemberResult:
    pass


@dataclass(frozen=True)
class RemoveMemberResult:
    removed: bool


@dataclass(frozen=True)
class EventsResult:
    """Events after the asked cursor, oldest first; ask after ``cursor`` next, at once if
    ``more``."""

    events: tuple[Event, ...]
    cursor: int
    more: bool = False


@dataclass(frozen=True)
class Renew:
    """Replace an expired lease: RenewResult, or error ``session_ended`` / ``lease_invalid``."""

    TYPE: ClassVar[str] = "renew"
    RESULT: ClassVar[type] = RenewResult
    token: str = field(repr=False)


@dataclass(frozen=True)
class Check:
    """Decide ``expr`` for ``user`` on the service: CheckResult."""

    TYPE: ClassVar[str] = "check"
    RESULT: ClassVar[type] = CheckResult
    user: str
    expr: Expression


@dataclass(frozen=True)
class EnsureGroup:
    """Make ``path`` and its ancestors exist, ``owner`` claiming the root: EnsureGroupResult."""

    TYPE: ClassVar[str] = "ensure_group"
    RESULT: ClassVar[type] = EnsureGroupResult
    path: GroupPath
    owner: tuple[str, str] | None = None


@dataclass(frozen=True)
class AddMember:
    TYPE: ClassVar[str] = "add_member"
    RESULT: ClassVar[type] = AddMemberResult
    path: GroupPath
    user: str
    grant: Grant = field(default_factory=Grant)


@dataclass(frozen=True)
class RemoveMember:
    TYPE: ClassVar[str] = "remove_member"
    RESULT: ClassVar[type] = RemoveMemberResult
    path: GroupPath
    user: str


@dataclass(frozen=True)
class Events:
    """The events after cursor ``after``, at most ``limit``: EventsResult."""

    TYPE: ClassVar[str] = "events"
    RESULT: ClassVar[type] = EventsResult
    after: int
    limit: int = MAX_EVENTS_LIMIT


Call = Renew | Check | EnsureGroup | AddMember | RemoveMember | Events
Result = (RenewResult | CheckResult | EnsureGroupResult | AddMemberResult | RemoveMemberResult
          | EventsResult)
CALLS: dict[str, type[Call]] = {c.TYPE: c for c in
                                (Renew, Check, EnsureGroup, AddMember, RemoveMember, Events)}


@dataclass(frozen=True)
class Request:
    """Client: call ``call`` under ``id`` (an integer the client picks, unique in flight)."""

    id: int
    call: Call


Message = Hello | Auth | Welcome | Heartbeat | Response | Event | Request


# ---------------------------------------------------------------- field codecs


@dataclass(frozen=True)
class _F:
    """One JSON field: its name, reader, writer, attribute name, whether it may be absent."""

    name: str
    read: wire.Reader
    write: Callable[[Any], object] = lambda value: value
    attr: str = ""
    optional: bool = False


def _read_body(cls: Callable[..., Any], specs: Sequence[_F], body: Mapping[str, Any],
               where: str) -> Any:
    wire.fields(dict(body), tuple(f.name for f in specs if not f.optional), where,
                tuple(f.name for f in specs if f.optional))
    values = {f.attr or f.name: f.read(body[f.name], f.name) for f in specs if f.name in body}
    return cls(**values)


def _write_body(instance: object, specs: Sequence[_F]) -> dict[str, Any]:
    body = {}
    for spec in specs:
        value = getattr(instance, spec.attr or spec.name)
        if not (value is None and spec.optional):
            body[spec.name] = spec.write(value)
    return body


def _int(value: object, name: str) -> int:
    return wire.integer(value, name)


def _id_text(value: object, name: str) -> str:
    return wire.text(value, name, MAX_ID_CHARS)


def _nonce(value: object, name: str) -> bytes:
    return wire.hex_bytes(value, name, MIN_NONCE_BYTES, MAX_NONCE_BYTES)


def _proof(value: object, name: str) -> str:
    wire.hex_bytes(value, name, 32, 32)
    return value  # type: ignore[return-value]


def _versions(value: object, name: str) -> tuple[int, ...]:
    items = wire.array(value, name, 16)
    versions = tuple(wire.integer(v, name, 1, 65535) for v in items)
    if not versions or len(set(versions)) != len(versions):
        raise BadField(f"{name} must list distinct versions")
    return versions


def _owner(value: object, name: str) -> tuple[str, str] | None:
    if value is None:
        return None
    items = wire.array(value, name, 2)
    if len(items) != 2:
        raise BadField(f"{name} must be [provider, subject] or null")
    return _id_text(items[0], f"{name}[0]"), _id_text(items[1], f"{name}[1]")


def _grant(value: object, name: str) -> Grant:
    body = wire.obj(value, name)
    wire.fields(body, ("expires", "spots", "depth", "removal", "deplete"), name)
    removal = body["removal"]
    if not isinstance(removal, str) or removal not in _REMOVALS:
        raise BadField(f"{name}.removal must be one of {', '.join(_REMOVALS)}")
    values = {key: wire.nullable(read)(body[key], f"{name}.{key}")
              for key, read in (("expires", wire.number), ("spots", _int), ("depth", _int))}
    deplete = wire.boolean(body["deplete"], f"{name}.deplete")
    try:
        return Grant(**values, removal=_REMOVALS[removal], deplete=deplete)
    except InviteError as error:
        raise BadField(f"{name}: {error}") from None


def _grant_json(grant: Grant) -> dict[str, Any]:
    return {"expires": grant.expires, "spots": grant.spots, "depth": grant.depth,
            "removal": Removal(grant.removal).name.lower(), "deplete": grant.deplete}


def _via(value: object, name: str) -> dict[str, str | None]:
    body = wire.obj(value, name)
    if len(body) > MAX_EXPRESSION_PATHS:
        raise BadField(f"{name} names more than {MAX_EXPRESSION_PATHS} paths")
    for key, granter in body.items():
        path_from_json(key, f"{name} key")
        if granter is not None:
            path_from_json(granter, f"{name}[{key[:40]!r}]")
    return dict(body)


def _error(value: object, name: str) -> RpcError:
    body = wire.obj(value, name)
    wire.fields(body, ("code", "message"), name)
    return RpcError(wire.text(body["code"], f"{name}.code", 64, _ERROR_CODE),
                    _message(body["message"], f"{name}.message"))


def _message(value: object, name: str) -> str:
    if isinstance(value, str) and not value:
        return value
    return wire.text(value, name, MAX_ERROR_MESSAGE_CHARS)


def _event(value: object, name: str) -> Event:
    event: Event = _read_body(Event, _EVENT, wire.obj(value, name), name)
    if event.kind not in _EVENT_FIELDS:
        raise BadField(f"{name}.kind must be one of {', '.join(sorted(_EVENT_FIELDS))}")
    wanted = _EVENT_FIELDS[event.kind]
    for spec in _EVENT:
        if spec.optional and (getattr(event, spec.attr or spec.name) is not None) != (
                spec.name in wanted):
            verb = "needs" if spec.name in wanted else "must not have"
            raise BadField(f"a {event.kind!r} {name} {verb} {spec.name}")
    return event


def _events(value: object, name: str) -> tuple[Event, ...]:
    return tuple(_event(item, name) for item in wire.array(value, name, MAX_EVENTS_LIMIT))


_EVENT = (
    _F("cursor", _int), _F("kind", lambda v, n: wire.text(v, n, 32)), _F("created_at", _int),
    _F("session", _id_text, attr="session_id", optional=True),
    _F("leases_end", _int, optional=True),
    _F("user", _id_text, attr="user_id", optional=True),
    _F("group", lambda v, n: str(path_from_json(v, n)), optional=True),
)
_EVENT_FIELDS = {REVOKED: {"session", "leases_end"},
                 **{kind: {"user", "group"} for kind in MEMBERSHIP_KINDS}}
"""The kinds that travel (others, such as ``client_revoked``, stay in the service)."""
_PATH = _F("path", path_from_json, str)
_USER = _F("user", _id_text)

_CALL_FIELDS: dict[type, tuple[_F, ...]] = {
    Renew: (_F("token", lambda v, n: wire.text(v, n, MAX_TOKEN_CHARS)),),
    Check: (_USER, _F("expr", expression_from_json, expression_to_json)),
    EnsureGroup: (_PATH, _F("owner", _owner, lambda o: None if o is None else list(o))),
    AddMember: (_PATH, _USER, _F("grant", _grant, _grant_json)),
    RemoveMember: (_PATH, _USER),
    Events: (_F("after", _int), _F("limit", lambda v, n: wire.integer(v, n, 1,
                                                                     MAX_EVENTS_LIMIT))),
}
_RESULT_FIELDS: dict[type, tuple[_F, ...]] = {
    RenewResult: (_F("token", lambda v, n: wire.text(v, n, MAX_TOKEN_CHARS)),),
    CheckResult: (_F("allowed", wire.boolean), _F("via", _via, dict),
                  _F("until", wire.nullable(wire.number))),
    EnsureGroupResult: (_F("owns", wire.boolean),),
    AddMemberResult: (),
    RemoveMemberResult: (_F("removed", wire.boolean),),
    EventsResult: (_F("events", _events, lambda es: [_write_body(e, _EVENT) for e in es]),
                   _F("cursor", _int), _F("more", wire.boolean)),
}
_MESSAGE_FIELDS: dict[type, tuple[_F, ...]] = {
    Hello: (_F("nonce", _nonce, bytes.hex), _F("time", _int), _F("versions", _versions, list)),
    Auth: (_F("client", lambda v, n: wire.text(v, n, 64, NAME_PATTERN)),
           _F("nonce", _nonce, bytes.hex), _F("client_nonce", _nonce, bytes.hex),
           _F("time", _int), _F("proof", _proof)),
    Welcome: (_F("cursor", _int),
              _F("heartbeat", lambda v, n: wire.number(v, n, MIN_HEARTBEAT_SECONDS,
                                                       MAX_HEARTBEAT_SECONDS)),
              _F("client_nonce", _nonce, bytes.hex), _F("proof", _proof)),
    Heartbeat: (_F("time", wire.number), _F("cursor", _int)),
    Response: (_F("id", _int), _F("result", wire.obj, dict, optional=True),
               _F("error", _error, lambda e: {"code": e.code, "message": e.message},
                  optional=True)),
    Event: _EVENT,
}
_SERVER_TYPES: dict[str, type] = {"hello": Hello, "welcome": Welcome, "response": Response,
                                  "event": Event, "heartbeat": Heartbeat}
_CLIENT_TYPES: dict[str, type] = {"auth": Auth, **CALLS}
_TYPE_OF = {cls: name for name, cls in {**_SERVER_TYPES, **_CLIENT_TYPES}.items()}


# ---------------------------------------------------------------- decode / encode


def decode(data: str | bytes, sender: Sender) -> Message:
    """The message in ``data`` as sent by ``sender``; raises a ProtocolError."""
    return decode_object(wire.loads(data), sender)


def decode_object(obj: Mapping[str, Any], sender: Sender) -> Message:
    """:func:`decode` for an already parsed JSON object."""
    _check_version(obj)
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise Malformed('every message needs a string "type"')
    own, other = (_CLIENT_TYPES, _SERVER_TYPES) if sender == "client" else (_SERVER_TYPES,
                                                                            _CLIENT_TYPES)
    if kind in other:
        raise Unexpected(f"{kind!r} is never sent by the {sender}")
    if kind not in own:
        raise UnknownType(f"unknown message type {kind[:40]!r}")
    body = {key: value for key, value in obj.items() if key not in ("v", "type")}
    return _decode_body(own[kind], body)


def _check_version(obj: Mapping[str, Any]) -> None:
    version = obj.get("v")
    if isinstance(version, bool) or not isinstance(version, int):
        raise Malformed(f'every message needs an integer "v" (this side speaks '
                        f'{_spoken()})')
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedVersion(f"protocol version {version} is not supported; this side "
                                 f"speaks {_spoken()}")


def _spoken() -> str:
    return ", ".join(str(v) for v in SUPPORTED_VERSIONS)


def _decode_body(cls: type, body: dict[str, Any]) -> Message:
    where = _TYPE_OF[cls]
    if cls in _CALL_FIELDS:
        if "id" not in body:
            raise BadField(f"missing field 'id' in {where}")
        request_id = wire.integer(body.pop("id"), "id")
        return Request(request_id, _read_body(cls, _CALL_FIELDS[cls], body, where))
    if cls is Event:
        return _event(body, "event")
    message = _read_body(cls, _MESSAGE_FIELDS[cls], body, where)
    if isinstance(message, Response) and (message.result is None) == (message.error is None):
        raise BadField("a response has exactly one of result and error")
    return message  # type: ignore[no-any-return]


def to_object(message: Message) -> dict[str, Any]:
    """The JSON object of ``message``, unchecked (:func:`encode` checks it)."""
    if isinstance(message, Request):
        call = message.call
        return {"v": PROTOCOL_VERSION, "type": call.TYPE, "id": message.id,
                **_write_body(call, _CALL_FIELDS[type(call)])}
    return {"v": PROTOCOL_VERSION, "type": _TYPE_OF[type(message)],
            **_write_body(message, _MESSAGE_FIELDS[type(message)])}


def encode(message: Message) -> str:
    """The text of ``message``; raises the ProtocolError :func:`decode` would raise for it."""
    obj = to_object(message)
    sender: Sender = "client" if type(message) in (Auth, Request) else "server"
    decode_object(json.loads(json.dumps(obj)), sender)
    return wire.dumps(obj)


def parse_result(call: type[Call] | Call, raw: Mapping[str, Any]) -> Result:
    """The result of ``call`` in the raw ``result`` object of a response; raises BadField."""
    cls = call.RESULT
    return _read_body(cls, _RESULT_FIELDS[cls], raw, "result")  # type: ignore[no-any-return]


def result_to_json(result: Result) -> dict[str, Any]:
    """The ``result`` object of a response carrying ``result``."""
    return _write_body(result, _RESULT_FIELDS[type(result)])


def events_page(events: Sequence[Event], read_to: int, more: bool = False) -> EventsResult:
    """The :class:`EventsResult` for ``events`` (oldest first), cut to fit in one message.

    ``read_to``: how far the log was read, at least the last of ``events`` (past
    it when events that do not travel were skipped; when ``events`` is empty,
    the log's newest cursor, read after finding nothing newer). ``more``:
    whether the log holds more after ``read_to``. If the page is cut, ``more``
    is set and ``cursor`` is the last event kept.
    """
    budget, kept = wire.MAX_MESSAGE_BYTES - 512, []
    for event in events:
        budget -= len(wire.dumps(_write_body(event, _EVENT)).encode("utf-8")) + 1
        if budget < 0:
            break
        kept.append(event)
    if len(kept) < len(events):
        return EventsResult(tuple(kept), kept[-1].cursor, True)
    return EventsResult(tuple(kept), max([read_to, *(e.cursor for e in kept[-1:])]), more)
