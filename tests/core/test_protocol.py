"""The channel protocol (core.protocol): text in, text out, a frozen clock, no sockets."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_modular_login.core.events import Event
from flask_modular_login.core.groups import And, GroupPath, Info, Not, Or, Xor
from flask_modular_login.core.invitations import Grant, Removal
from flask_modular_login.core.protocol import (
    CLOSE_CODES,
    MAX_MESSAGE_BYTES,
    AddMember,
    AddMemberResult,
    Authenticated,
    CatchUp,
    Check,
    CheckResult,
    ClientConnection,
    ClientRecord,
    ClientState,
    Close,
    ConnectionClosed,
    EnsureGroup,
    EnsureGroupResult,
    Events,
    EventsResult,
    FeedState,
    Heartbeat,
    HeartbeatDue,
    ProtocolError,
    RemoveMember,
    RemoveMemberResult,
    Renew,
    RenewResult,
    Reply,
    Request,
    Response,
    RpcError,
    Send,
    ServerConnection,
    ServerSettings,
    ServerState,
    TokenBucket,
    UsageError,
    Welcomed,
    auth_input,
    auth_proof,
    backoff,
    decode,
    encode,
    events_page,
    expression_from_json,
    expression_to_json,
    new_credential,
    parse_credential,
    welcome_input,
    welcome_proof,
)
from flask_modular_login.core.protocol.errors import BadField, TooLarge, Unexpected

DOC = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text()
NOW = 1_800_000_000.0
NAME = "chat-app"
CREDENTIAL = new_credential(NAME, bytes(range(32)))
KEY = parse_credential(CREDENTIAL)[1]
OTHER_KEY = parse_credential(new_credential("other", bytes(range(1, 33))))[1]
SERVER_NONCE = bytes.fromhex("00112233445566778899aabbccddeeff")
CLIENT_NONCE = bytes.fromhex("ffeeddccbbaa99887766554433221100")
CLIENTS = {NAME: ClientRecord(NAME, KEY), "other": ClientRecord("other", OTHER_KEY),
           "gone": ClientRecord("gone", OTHER_KEY, revoked=True)}
chat = GroupPath("chat")


def server(nonce: bytes = SERVER_NONCE, now: float = NOW, **settings) -> ServerConnection:
    return ServerConnection(nonce, now, CLIENTS.get, ServerSettings(**settings))


def client(name: str = NAME, key: bytes = KEY, now: float = NOW) -> ClientConnection:
    return ClientConnection(name, key, CLIENT_NONCE, now)


def auth_text(srv: ServerConnection, cli: ClientConnection, now: float = NOW) -> str:
    [send] = cli.receive_data(srv.hello(), now)
    assert isinstance(send, Send)
    return send.text


def connected(**settings) -> tuple[ServerConnection, ClientConnection]:
    srv, cli = server(**settings), client()
    assert srv.receive_data(auth_text(srv, cli), NOW) == [Authenticated(NAME)]
    assert cli.receive_data(srv.send_welcome(7), NOW) == [Welcomed(7, srv.settings.heartbeat)]
    return srv, cli


def refused(items: list, code: str) -> Close:
    [close] = items
    assert isinstance(close, Close), close
    assert close.error is not None and close.error.code == code, close
    assert close.code == CLOSE_CODES[code]
    assert close.reason.startswith(code)
    return close


def open_server() -> ServerConnection:
    return connected()[0]


def raw(**fields) -> str:
    return json.dumps({"v": 1, **fields})


# -- the handshake ---------------------------------------------------------------------------


def test_full_handshake_text_in_text_out():
    srv, cli = server(), client()
    assert srv.state is ServerState.AWAITING_AUTH and cli.state is ClientState.AWAITING_HELLO
    assert srv.hello() == ('{"v":1,"type":"hello","nonce":"00112233445566778899aabbccddeeff",'
                           '"time":1800000000,"versions":[1]}')
    auth = auth_text(srv, cli)
    assert cli.state is ClientState.AWAITING_WELCOME
    assert srv.receive_data(auth, NOW + 1) == [Authenticated(NAME)]
    assert srv.state is ServerState.OPEN and srv.client == NAME
    welcome = srv.send_welcome(42)
    assert cli.receive_data(welcome, NOW + 1) == [Welcomed(42, 2.0)]
    assert cli.state is ClientState.OPEN and cli.cursor == 42 and cli.fresh(NOW + 1)


def test_worked_example_of_the_doc():
    """docs/protocol.md shows these exact values; if this fails, fix the doc or the code."""
    time = 1_800_000_000
    assert CREDENTIAL == "chat-app.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
    values = [CREDENTIAL, KEY.hex(),
              auth_input(SERVER_NONCE, CLIENT_NONCE, NAME, time).hex(),
              auth_proof(KEY, SERVER_NONCE, CLIENT_NONCE, NAME, time),
              welcome_input(SERVER_NONCE, CLIENT_NONCE, NAME, time).hex(),
              welcome_proof(KEY, SERVER_NONCE, CLIENT_NONCE, NAME, time)]
    srv, cli = server(), client()
    auth = auth_text(srv, cli)
    srv.receive_data(auth, NOW)
    values += [srv.hello(), auth, srv.send_welcome(42)]
    for value in values:
        assert value in DOC, value
    assert values[3] == "c6c016e5d189a6bb83f9d9f128b2b98955bd1ff221a942d87d8a9d5a49fdf417"


def test_close_codes_table_of_the_doc_is_the_code():
    rows = dict(re.findall(r"^\| `(\w+)` \| (\d{4}) \|", DOC, re.MULTILINE))
    assert {code: int(number) for code, number in rows.items()} == CLOSE_CODES


def test_wrong_proof_is_refused():
    srv, cli = server(), client()
    auth = json.loads(auth_text(srv, cli))
    auth["proof"] = "0" * 64
    refused(srv.receive_data(json.dumps(auth), NOW), "auth_failed")
    assert srv.state is ServerState.CLOSED and srv.close_code == 4401


@pytest.mark.parametrize("skew", [-31, 31, -1000, 10**6])
def test_auth_time_too_far_from_the_servers_clock_is_stale(skew):
    srv, cli = server(), client(now=NOW + skew)
    auth = auth_text(srv, cli, NOW + skew)
    refused(srv.receive_data(auth, NOW), "stale")


@pytest.mark.parametrize("skew", [-30, 30])
def test_auth_time_within_30_seconds_is_accepted(skew):
    srv, cli = server(), client()
    assert srv.receive_data(auth_text(srv, cli, NOW + skew), NOW) == [Authenticated(NAME)]


def test_an_auth_replayed_to_another_connection_is_refused():
    srv, cli = server(), client()
    auth = auth_text(srv, cli)
    assert srv.receive_data(auth, NOW) == [Authenticated(NAME)]
    other = server(nonce=bytes(16))
    refused(other.receive_data(auth, NOW), "replayed")


def test_an_auth_for_another_nonce_with_the_nonce_rewritten_fails_the_proof():
    srv, cli = server(), client()
    auth = json.loads(auth_text(srv, cli))
    other = server(nonce=bytes(16))
    auth["nonce"] = bytes(16).hex()
    refused(other.receive_data(json.dumps(auth), NOW), "auth_failed")


def test_a_second_auth_on_the_same_connection_is_refused():
    srv, cli = server(), client()
    auth = auth_text(srv, cli)
    assert srv.receive_data(auth, NOW) == [Authenticated(NAME)]
    refused(srv.receive_data(auth, NOW), "replayed")
    assert srv.receive_data(auth, NOW) == []


def test_unknown_client_fails_like_a_wrong_proof():
    srv = server()
    auth = auth_text(srv, client(name="nobody"))
    refused(srv.receive_data(auth, NOW), "auth_failed")


def test_revoked_client_is_told_so_only_with_a_good_proof():
    srv = server()
    refused(srv.receive_data(auth_text(srv, client("gone", OTHER_KEY)), NOW), "revoked_client")
    srv = server()
    refused(srv.receive_data(auth_text(srv, client("gone", KEY)), NOW), "auth_failed")


def test_another_clients_credential_under_this_name_fails():
    srv = server()
    refused(srv.receive_data(auth_text(srv, client(NAME, OTHER_KEY)), NOW), "auth_failed")


def test_a_failing_client_registry_closes_with_internal():
    def broken(name):
        raise OSError("database locked")

    srv = ServerConnection(SERVER_NONCE, NOW, broken)
    refused(srv.receive_data(auth_text(srv, client()), NOW), "internal")


def test_a_message_before_auth_closes():
    srv = server()
    refused(srv.receive_data(raw(type="renew", id=1, token="t"), NOW), "unexpected")


def test_client_refuses_a_server_that_cannot_prove_the_key():
    srv = ServerConnection(SERVER_NONCE, NOW, lambda name: ClientRecord(name, OTHER_KEY))
    cli = ClientConnection(NAME, OTHER_KEY, CLIENT_NONCE, NOW)
    srv.receive_data(auth_text(srv, cli), NOW)
    welcome = json.loads(srv.send_welcome(1))
    impostor = client()
    impostor.receive_data(srv.hello(), NOW)
    refused(impostor.receive_data(json.dumps(welcome), NOW), "auth_failed")
    echo = client()
    echo.receive_data(srv.hello(), NOW)
    welcome["client_nonce"] = SERVER_NONCE.hex()
    refused(echo.receive_data(json.dumps(welcome), NOW), "auth_failed")


def test_client_refuses_a_server_without_its_version():
    cli = client()
    refused(cli.receive_data(raw(type="hello", nonce=SERVER_NONCE.hex(), time=1,
                                 versions=[2]), NOW), "unsupported_version")


def test_client_needs_hello_first_and_welcome_second():
    cli = client()
    refused(cli.receive_data(raw(type="heartbeat", time=NOW, cursor=1), NOW), "unexpected")
    srv, cli = server(), client()
    cli.receive_data(srv.hello(), NOW)
    refused(cli.receive_data(srv.hello(), NOW), "unexpected")


def test_credentials_parse_and_never_echo_the_secret():
    assert parse_credential(" " + CREDENTIAL + "\n") == (NAME, KEY)
    assert parse_credential("app.example.com." + CREDENTIAL.split(".")[1])[0] == "app.example.com"
    secret = CREDENTIAL.split(".")[1]
    for bad in [secret, "chat-app." + secret[:-5], "bad name." + secret, "." + secret]:
        with pytest.raises(ValueError) as info:
            parse_credential(bad)
        assert secret not in str(info.value)
    with pytest.raises(ValueError):
        new_credential(NAME, b"short")


# -- framing and fields --------------------------------------------------------------------


BAD_FRAMES = {
    "malformed": [b"\xff\xfe{}", "{not json", "[1, 2]", '"text"', "null", '{"v":1,"v":1}',
                  '{"v":1,"type":"renew","id":1,"token":NaN}', '{"v":1,"x":"\ud800"}',
                  '{"v":1,"type":"renew","id":1,"token":1e999}', "[" * 5000 + "]" * 5000,
                  '{"a":' * 50 + "1" + "}" * 50, '{"type":"auth"}', '{"v":"1","type":"auth"}',
                  '{"v":true,"type":"auth"}', '{"v":1}', '{"v":1,"type":5}', "\ufeff{}"],
    "too_large": ["x" * (MAX_MESSAGE_BYTES + 1), "é" * (MAX_MESSAGE_BYTES // 2 + 1),
                  b" " * (MAX_MESSAGE_BYTES + 1)],
    "unknown_type": [raw(type="login"), raw(type="")],
    "unsupported_version": [json.dumps({"v": 2, "type": "auth"}),
                            json.dumps({"v": 0, "type": "nothing"})],
    "unexpected": [raw(type="welcome"), raw(type="hello"), raw(type="event")],
}


@pytest.mark.parametrize(("code", "frame"),
                         [(code, frame) for code, frames in BAD_FRAMES.items() for frame in frames])
def test_bad_frames_close_with_their_code(code, frame):
    refused(server().receive_data(frame, NOW), code)
    refused(open_server().receive_data(frame, NOW), code)


def test_the_refusal_of_an_unknown_version_names_the_supported_one():
    close = refused(server().receive_data(json.dumps({"v": 2, "type": "auth"}), NOW),
                    "unsupported_version")
    assert "version 2 is not supported" in close.reason and "speaks 1" in close.reason


def test_a_message_of_exactly_64_kib_is_accepted():
    srv = open_server()
    text = raw(type="remove_member", id=1, path="chat/a", user="u")
    padded = text[:-1] + " " * (MAX_MESSAGE_BYTES - len(text)) + "}"
    assert len(padded.encode()) == MAX_MESSAGE_BYTES
    assert srv.receive_data(padded, NOW) == [Request(1, RemoveMember(chat / "a", "u"))]


GRANT = {"expires": None, "spots": 0, "depth": 0, "removal": "none", "deplete": False}
BAD_FIELDS = [
    {"type": "renew", "id": "1", "token": "t"},
    {"type": "renew", "id": 1.0, "token": "t"},
    {"type": "renew", "id": True, "token": "t"},
    {"type": "renew", "id": -1, "token": "t"},
    {"type": "renew", "id": 2**53, "token": "t"},
    {"type": "renew", "token": "t"},
    {"type": "renew", "id": 1},
    {"type": "renew", "id": 1, "token": 5},
    {"type": "renew", "id": 1, "token": ""},
    {"type": "renew", "id": 1, "token": "t" * 4097},
    {"type": "renew", "id": 1, "token": "t", "extra": 1},
    {"type": "check", "id": 1, "user": "u", "expr": ["!", "chat"]},
    {"type": "check", "id": 1, "user": "u", "expr": ["&", "chat"]},
    {"type": "check", "id": 1, "user": "u", "expr": ["~", "a", "b"]},
    {"type": "check", "id": 1, "user": "u", "expr": ["+"]},
    {"type": "check", "id": 1, "user": "u", "expr": []},
    {"type": "check", "id": 1, "user": "u", "expr": {"or": ["a", "b"]}},
    {"type": "check", "id": 1, "user": "u", "expr": "chat//a"},
    {"type": "check", "id": 1, "user": "u", "expr": "chat/\n"},
    {"type": "check", "id": 1, "user": "", "expr": "chat"},
    {"type": "check", "id": 1, "user": "u" * 257, "expr": "chat"},
    {"type": "ensure_group", "id": 1, "path": "chat", "owner": ["github"]},
    {"type": "ensure_group", "id": 1, "path": "chat", "owner": ["github", 5]},
    {"type": "ensure_group", "id": 1, "path": 5, "owner": None},
    {"type": "add_member", "id": 1, "path": "chat", "user": "u", "grant": {}},
    {"type": "add_member", "id": 1, "path": "chat", "user": "u",
     "grant": {**GRANT, "removal": "all"}},
    {"type": "add_member", "id": 1, "path": "chat", "user": "u", "grant": {**GRANT, "spots": -1}},
    {"type": "add_member", "id": 1, "path": "chat", "user": "u", "grant": {**GRANT, "x": 1}},
    {"type": "add_member", "id": 1, "path": "chat", "user": "u",
     "grant": {**GRANT, "deplete": 0}},
    {"type": "remove_member", "id": 1, "path": "chat"},
    {"type": "events", "id": 1, "after": 0, "limit": 0},
    {"type": "events", "id": 1, "after": 0, "limit": 1001},
    {"type": "events", "id": 1, "after": -1, "limit": 10},
]


@pytest.mark.parametrize("fields", BAD_FIELDS)
def test_wrong_fields_are_refused(fields):
    refused(open_server().receive_data(raw(**fields), NOW), "bad_field")


def test_auth_fields_are_checked():
    srv, cli = server(), client()
    good = json.loads(auth_text(srv, cli))
    for change in [{"client": "bad name"}, {"nonce": "00"}, {"nonce": "AB" * 16},
                   {"client_nonce": "0" * 31}, {"proof": "0" * 63}, {"time": 1.5},
                   {"extra": None}]:
        refused(server().receive_data(json.dumps({**good, **change}), NOW), "bad_field")


def test_expressions_nest_and_count_within_limits():
    deep: object = "chat"
    for _ in range(32):
        deep = ["~", deep]
    assert expression_from_json(deep) is not None
    with pytest.raises(BadField):
        expression_from_json(["~", deep])
    with pytest.raises(BadField):
        expression_from_json(["+", *(["chat"] * 257)])


def test_requests_with_an_id_in_flight_are_refused_and_ids_are_reusable_after():
    srv = open_server()
    request = raw(type="remove_member", id=5, path="chat/a", user="u")
    assert srv.receive_data(request, NOW) == [Request(5, RemoveMember(chat / "a", "u"))]
    assert srv.in_flight == {5}
    srv.send_result(5, RemoveMemberResult(True))
    assert srv.receive_data(request, NOW) == [Request(5, RemoveMember(chat / "a", "u"))]
    refused(srv.receive_data(request, NOW), "bad_field")


# -- RPCs ----------------------------------------------------------------------------------


def roundtrip(call, result=None, error=None) -> Reply:
    srv, cli = connected()
    request_id, text = cli.send_request(call)
    assert srv.receive_data(text, NOW) == [Request(request_id, call)]
    answer = (srv.send_result(request_id, result) if error is None
              else srv.send_error(request_id, *error))
    [reply] = cli.receive_data(answer, NOW)
    assert srv.in_flight == frozenset() and cli.in_flight == {}
    return reply


EVENTS = (Event(3, "revoked", 1700, session_id="s1", leases_end=1800),
          Event(4, "added", 1701, user_id="u1", group="chat/a"),
          Event(5, "owner", 1702, user_id="u2", group="chat"))
RPCS = [
    (Renew("old.token.x"), RenewResult("new.token.y")),
    (Check("u1", ~(chat / "a" / "blocked") & (chat / "a") + chat / "b"),
     CheckResult(True, {"chat/a": "chat", "chat/b": None}, NOW + 60)),
    (Check("u1", chat ^ GroupPath("x") | chat / "y"), CheckResult(False, {}, None)),
    (EnsureGroup(chat / "room1", ("github", "12345")), EnsureGroupResult(True)),
    (EnsureGroup(chat / "room1"), EnsureGroupResult(False)),
    (AddMember(chat / "room1", "u1"), AddMemberResult()),
    (AddMember(chat / "room2", "u1", Grant(NOW + 3600, spots=None, depth=1,
                                           removal=Removal.INVITED, deplete=True)),
     AddMemberResult()),
    (RemoveMember(chat / "room1", "u1"), RemoveMemberResult(False)),
    (Events(after=2, limit=100), EventsResult(EVENTS, 5, more=True)),
    (Events(after=5), EventsResult((), 9)),
]


@pytest.mark.parametrize(("call", "result"), RPCS)
def test_rpc_round_trips(call, result):
    reply = roundtrip(call, result)
    assert reply == Reply(1, call, result, None)


def test_decode_reads_what_encode_writes_and_encode_refuses_what_decode_refuses():
    for call, _ in RPCS:
        assert decode(encode(Request(3, call)), "client") == Request(3, call)
    for message in [*EVENTS, Heartbeat(NOW, 3), Response(4, error=RpcError("internal", ""))]:
        assert decode(encode(message).encode(), "server") == message
    with pytest.raises(Unexpected):
        decode(encode(Heartbeat(NOW, 3)), "client")
    with pytest.raises(BadField):
        encode(Request(1, Renew("")))
    with pytest.raises(BadField):
        encode(Event(1, "revoked", 1, user_id="u", group="chat"))
    with pytest.raises(BadField):
        encode(Event(1, "client_revoked", 1, client=NAME))
    with pytest.raises(TooLarge):
        encode(Response(1, result={"token": "t" * MAX_MESSAGE_BYTES}))


def test_rpc_errors_keep_the_connection_open():
    reply = roundtrip(Renew("old"), error=("session_ended", "the session was revoked"))
    assert reply.result is None and reply.error.code == "session_ended"


def test_wire_form_of_a_check_and_its_answer():
    srv, cli = connected()
    _, text = cli.send_request(Check("u1", ~(chat / "a" / "blocked") & (chat / "a")))
    assert text == ('{"v":1,"type":"check","id":1,"user":"u1",'
                    '"expr":["&",["~","chat/a/blocked"],"chat/a"]}')
    srv.receive_data(text, NOW)
    assert srv.send_result(1, CheckResult(True, {}, None)) == (
        '{"v":1,"type":"response","id":1,"result":{"allowed":true,"via":{},"until":null}}')


def test_client_refuses_bad_responses():
    for answer in [raw(type="response", id=9, result={}),
                   raw(type="response", id=1, result={"token": 5}),
                   raw(type="response", id=1, result={"token": "t"}, error={"code": "x",
                                                                            "message": ""}),
                   raw(type="response", id=1),
                   raw(type="response", id=1, error={"code": "Bad Code", "message": ""})]:
        _, cli = connected()
        cli.send_request(Renew("t"))
        refused(cli.receive_data(answer, NOW), "bad_field")


def test_pushes_reach_the_client():
    srv, cli = connected()
    for event in EVENTS:
        assert cli.receive_data(srv.send_event(event), NOW) == [event]
    assert cli.receive_data(srv.send_heartbeat(NOW + 2), NOW + 2) == [Heartbeat(NOW + 2, 7)]


def test_the_heartbeat_names_the_newest_cursor_pushed_on_this_connection():
    srv, _ = connected()  # welcomed at cursor 7
    assert json.loads(srv.send_heartbeat(NOW))["cursor"] == 7
    srv.send_event(event(9))
    srv.send_event(event(8))
    assert json.loads(srv.send_heartbeat(NOW))["cursor"] == 9
    assert json.loads(srv.send_heartbeat(NOW, 4))["cursor"] == 9
    assert json.loads(srv.send_heartbeat(NOW, 12))["cursor"] == 12


@pytest.mark.parametrize("event", [
    {"cursor": 1, "kind": "revoked", "created_at": 1, "session": "s"},
    {"cursor": 1, "kind": "revoked", "created_at": 1, "session": "s", "leases_end": 2,
     "user": "u"},
    {"cursor": 1, "kind": "added", "created_at": 1, "user": "u"},
    {"cursor": 1, "kind": "added", "created_at": 1, "user": "u", "group": "a//b"},
    {"cursor": 1, "kind": "exploded", "created_at": 1, "user": "u", "group": "a"},
    {"cursor": 1, "kind": "client_revoked", "created_at": 1, "user": "u", "group": "a"},
    {"cursor": 1, "kind": "client_revoked", "created_at": 1},
])
def test_client_refuses_bad_events(event):
    _, cli = connected()
    refused(cli.receive_data(raw(type="event", **event), NOW), "bad_field")


def test_usage_errors_are_the_callers_bugs():
    srv, cli = server(), client()
    with pytest.raises(UsageError):
        srv.send_welcome(1)
    with pytest.raises(UsageError):
        cli.send_request(Renew("t"))
    srv, cli = connected()
    with pytest.raises(UsageError):
        srv.send_welcome(1)
    with pytest.raises(UsageError):
        srv.send_result(1, RenewResult("t"))
    request_id, text = cli.send_request(Renew("t"))
    srv.receive_data(text, NOW)
    with pytest.raises(UsageError):
        srv.send_result(request_id, EnsureGroupResult(True))
    with pytest.raises(BadField):
        srv.send_error(request_id, "Not A Code")
    assert srv.in_flight == {request_id}
    with pytest.raises(BadField):
        cli.send_request(Check("", chat))
    assert set(cli.in_flight) == {request_id}


def test_nothing_is_sent_after_close():
    srv, cli = connected()
    assert srv.close(1001, "going away") == Close(1001, "going away")
    assert srv.close() == Close(1001, "going away")
    with pytest.raises(ConnectionClosed):
        srv.send_heartbeat(NOW)
    assert srv.receive_data(raw(type="renew", id=1, token="t"), NOW) == []
    cli.close()
    with pytest.raises(ConnectionClosed):
        cli.send_request(Renew("t"))


def test_close_reasons_fit_a_close_frame():
    srv = server()
    [close] = srv.receive_data(raw(type="x" * 5000), NOW)
    assert len(close.reason.encode()) <= 123


# -- flood control and timers ----------------------------------------------------------------


def test_token_bucket_refills_at_its_rate():
    bucket = TokenBucket(rate=10, burst=20, now=0)
    assert all(bucket.take(0) for _ in range(20)) and not bucket.take(0)
    assert bucket.take(0.1) and not bucket.take(0.1)
    assert not bucket.take(-5)  # a clock going backwards refills nothing
    assert sum(bucket.take(100) for _ in range(50)) == 20


def test_a_flood_closes_the_connection():
    srv = open_server()
    burst = int(ServerSettings().burst)
    for request_id in range(burst - 1):  # the auth took one token of the burst
        [request] = srv.receive_data(raw(type="events", id=request_id, after=0, limit=1), NOW)
        srv.send_result(request_id, EventsResult((), 0))  # answered: never too many in flight
        assert isinstance(request, Request)
    refused(srv.receive_data(raw(type="events", id=burst, after=0, limit=1), NOW), "flood")


def test_a_sustained_rate_under_the_limit_passes():
    srv = open_server()
    for n in range(10_000):
        rate = ServerSettings().rate * 0.99
        [request] = srv.receive_data(raw(type="events", id=n, after=0, limit=1), NOW + n / rate)
        srv.send_result(n, EventsResult((), 0))
        assert isinstance(request, Request)


def test_too_many_requests_in_flight_is_a_flood():
    srv = connected(max_in_flight=3)[0]
    for request_id in range(3):
        srv.receive_data(raw(type="events", id=request_id, after=0, limit=1), NOW)
    refused(srv.receive_data(raw(type="events", id=3, after=0, limit=1), NOW), "flood")


def test_timeouts_and_heartbeats():
    srv = server()
    assert srv.poll(NOW + 9.9) == []
    refused(srv.poll(NOW + 10), "timeout")
    cli = client()
    refused(cli.poll(NOW + 10), "timeout")
    srv, cli = connected()
    assert srv.poll(NOW + 1) == [] and srv.poll(NOW + 2) == [HeartbeatDue()]
    cli.receive_data(srv.send_heartbeat(NOW + 2), NOW + 2)
    assert srv.poll(NOW + 3) == []
    assert cli.fresh(NOW + 6.9) and cli.poll(NOW + 6.9) == []
    assert not cli.fresh(NOW + 7)
    refused(cli.poll(NOW + 7), "timeout")


# -- reconnecting --------------------------------------------------------------------------


def test_backoff_is_full_jitter_between_zero_and_a_capped_exponential():
    assert backoff(0, lambda: 0.0) == 0.0
    assert backoff(0, lambda: 0.5) == pytest.approx(0.05)
    assert backoff(3, lambda: 0.999) == pytest.approx(0.7992)
    assert backoff(9, lambda: 0.5) == 15.0
    assert backoff(10_000, lambda: 0.999) == pytest.approx(29.97)
    rng = random.Random(1)
    assert all(0 <= backoff(n, rng.random) < min(30, 0.1 * 2**n) for n in range(40))
    with pytest.raises(ValueError):
        backoff(-1, rng.random)


def event(cursor: int) -> Event:
    return Event(cursor, "removed", 1, user_id="u", group="chat")


def test_catch_up_before_trusting_caches():
    feed = CatchUp(cursor=10, page_size=2)
    assert not feed.live and not feed.pushed(event(11))
    assert feed.connected(welcome_cursor=14) == Events(after=10, limit=2)
    assert not feed.pushed(event(15))  # a page will bring it, in order
    new, ask = feed.page(EventsResult((event(11), event(12)), 12, more=True))
    assert [e.cursor for e in new] == [11, 12] and ask == Events(after=12, limit=2)
    new, ask = feed.page(EventsResult((event(13),), 13))
    assert ask == Events(after=13, limit=2) and not feed.live  # 15 was pushed: not there yet
    new, ask = feed.page(EventsResult((event(14), event(15)), 15))
    assert ask is None and feed.live and feed.cursor == 15
    assert not feed.pushed(event(15)) and feed.pushed(event(16)) and feed.cursor == 16


def test_a_heartbeat_ahead_of_the_cursor_starts_a_catch_up():
    feed = CatchUp()
    assert feed.connected(3) == Events(after=0, limit=1000)
    assert feed.page(EventsResult((), 3)) == ((), None) and feed.live
    assert feed.heartbeat(3) is None
    assert feed.heartbeat(5) == Events(after=3, limit=1000)
    assert feed.state is FeedState.CATCHING_UP and feed.heartbeat(6) is None
    assert feed.page(EventsResult((event(6),), 6)) == ((event(6),), None) and feed.live


def test_a_disconnect_distrusts_caches_and_an_expired_cursor_starts_over():
    feed = CatchUp(cursor=50)
    feed.connected(60)
    assert feed.expired() == Events(after=0, limit=1000)
    new, ask = feed.page(EventsResult((event(40), event(70)), 70))
    assert new == (event(70),) and ask is None and feed.live
    feed.disconnected()
    assert not feed.live and not feed.pushed(event(71))
    with pytest.raises(UsageError):
        feed.page(EventsResult((), 70))


def test_a_log_that_went_back_restarts_the_catch_up_from_zero():
    feed = CatchUp(cursor=90)
    assert feed.connected(welcome_cursor=95) == Events(after=90, limit=1000)
    assert not feed.rewound
    feed.disconnected()
    assert feed.connected(welcome_cursor=12) == Events(after=0, limit=1000) and feed.rewound
    new, ask = feed.page(EventsResult((event(3), event(12)), 12))
    assert new == (event(3), event(12)) and ask is None and feed.cursor == 12 and feed.live


def test_an_events_page_fits_in_one_message():
    big = [Event(n, "added", 1, user_id="u" * 256, group="g/" + "s" * 1000) for n in range(1, 200)]
    page = events_page(big, read_to=500)
    assert page.more and 0 < len(page.events) < 199 and page.cursor == page.events[-1].cursor
    srv, cli = connected()
    request_id, request = cli.send_request(Events(after=0))
    srv.receive_data(request, NOW)
    answer = srv.send_result(request_id, page)
    assert len(answer.encode()) <= MAX_MESSAGE_BYTES
    assert events_page([], 500) == EventsResult((), 500, False)
    assert events_page(big[:3], 3, more=True) == EventsResult(tuple(big[:3]), 3, True)
    assert events_page(big[:3], 9) == EventsResult(tuple(big[:3]), 9, False)  # 4-9 skipped


# -- properties ----------------------------------------------------------------------------


segments = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
                   max_size=8).filter(lambda s: "/" not in s)
paths = st.builds(GroupPath, segments, st.lists(segments, max_size=3).map(tuple))
expressions = st.recursive(
    paths,
    lambda inner: st.one_of(
        st.builds(Not, inner), st.builds(And, inner, inner), st.builds(Or, inner, inner),
        st.builds(Xor, inner, inner),
        st.lists(inner, min_size=1, max_size=4).map(lambda ops: Info(tuple(ops)))),
    max_leaves=20)


@given(expressions)
def test_expressions_round_trip_through_json(expr):
    assert expression_from_json(json.loads(json.dumps(expression_to_json(expr)))) == expr


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)
TYPES = ["auth", "renew", "check", "ensure_group", "add_member", "remove_member", "events",
         "hello", "welcome", "response", "event", "heartbeat", "other"]
FIELDS = ["id", "token", "user", "expr", "path", "owner", "grant", "after", "limit", "client",
          "nonce", "client_nonce", "time", "proof", "cursor", "kind", "result", "error"]
message_like = st.fixed_dictionaries(
    {"v": st.sampled_from([1, 1, 1, 2, "1"]), "type": st.sampled_from(TYPES)},
    optional={name: json_values | st.sampled_from(["chat/a", ["&", "a", "b"], 1, GRANT])
              for name in FIELDS})
frames = st.one_of(st.text(), st.binary(), json_values.map(json.dumps),
                   message_like.map(json.dumps))


def survives(connection, frame) -> list:
    items = connection.receive_data(frame, NOW)
    assert isinstance(items, list) and len(items) <= 1
    return items


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(frames)
def test_arbitrary_frames_before_auth_close_the_server_with_a_code(frame):
    srv = server()
    [close] = survives(srv, frame)
    assert isinstance(close, Close) and close.code in CLOSE_CODES.values()
    assert srv.state is ServerState.CLOSED and isinstance(srv.error, ProtocolError)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(frames)
def test_arbitrary_frames_after_auth_are_requests_or_a_close(frame):
    srv = open_server()
    [item] = survives(srv, frame)
    if isinstance(item, Close):
        assert srv.state is ServerState.CLOSED and item.code in CLOSE_CODES.values()
    else:
        assert isinstance(item, Request) and srv.in_flight == {item.id}
        assert srv.state is ServerState.OPEN


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(frames, st.sampled_from(["hello", "welcome", "open"]))
def test_arbitrary_frames_never_break_the_client(frame, stage):
    srv, cli = server(), client()
    if stage != "hello":
        srv.receive_data(auth_text(srv, cli), NOW)
    if stage == "open":
        cli.receive_data(srv.send_welcome(1), NOW)
    for item in survives(cli, frame):
        assert not isinstance(item, Close) or cli.state is ClientState.CLOSED


calls = st.sampled_from([call for call, _ in RPCS])
steps = st.lists(st.one_of(
    st.tuples(st.just("call"), calls),
    st.tuples(st.just("answer"), st.integers(0, 5)),
    st.tuples(st.just("fail"), st.integers(0, 5)),
    st.tuples(st.just("push"), st.integers(1, 100)),
    st.tuples(st.just("heartbeat"), st.just(0)),
    st.tuples(st.just("replay"), st.integers(0, 5)),
), max_size=40)
RESULTS = {type(call): result for call, result in RPCS}


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_valid_sequences_keep_both_ends_in_step(script):
    srv, cli = connected()
    sent: dict[int, str] = {}
    for step, arg in script:
        if step == "call":
            request_id, text = cli.send_request(arg)
            assert srv.receive_data(text, NOW) == [Request(request_id, arg)]
            sent[request_id] = text
        elif step in ("answer", "fail") and srv.in_flight:
            request_id = sorted(srv.in_flight)[arg % len(srv.in_flight)]
            call = cli.in_flight[request_id]
            text = (srv.send_result(request_id, RESULTS[type(call)]) if step == "answer"
                    else srv.send_error(request_id, "unavailable", "try later"))
            [reply] = cli.receive_data(text, NOW)
            assert reply.id == request_id and reply.call == call
            assert (reply.error is None) == (step == "answer")
        elif step == "push":
            assert cli.receive_data(srv.send_event(event(arg)), NOW) == [event(arg)]
        elif step == "heartbeat":
            pushed = max([7, *(a for s, a in script if s == "push")])
            [beat] = cli.receive_data(srv.send_heartbeat(NOW), NOW)
            assert isinstance(beat, Heartbeat) and beat.cursor <= pushed
        elif step == "replay" and sent:
            request_id = sorted(sent)[arg % len(sent)]
            if request_id in srv.in_flight:
                refused(srv.receive_data(sent[request_id], NOW), "bad_field")
                return
        assert srv.in_flight == set(cli.in_flight)
        assert srv.state is ServerState.OPEN and cli.state is ClientState.OPEN


def test_an_event_encoded_once_is_pushed_as_it_is_and_still_counts_for_the_heartbeat():
    srv, cli = connected()  # welcomed at cursor 7
    text = encode(event(9))
    assert srv.send_event(event(9), text) is text
    assert cli.receive_data(text, NOW) == [event(9)]
    assert json.loads(srv.send_heartbeat(NOW))["cursor"] == 9
