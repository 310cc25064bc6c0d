"""Bad messages close one connection, nothing else (docs/security.md, 19); a client that
lost the server reconnects and catches up before it trusts its caches again."""

from __future__ import annotations

import json
import stat
import time

import pytest
from websockets.exceptions import ConnectionClosed

from flask_modular_login.channel.client import ChannelClient
from flask_modular_login.channel.server import ChannelServer
from flask_modular_login.core.protocol.errors import (
    BadField,
    Flood,
    Malformed,
    TooLarge,
    Unexpected,
    UnknownType,
)
from flask_modular_login.core.protocol.messages import Renew, RenewResult
from tests.channel.harness import ServerThread, wait_until
from tests.channel.raw import authenticate, close_code, open_raw
from tests.support.servers import free_port


def test_a_restarted_server_is_reconnected_to_and_caught_up_with(world):
    server = world.start_server()
    client, recorder = world.ready_client()
    issued = world.session()

    server.stop()
    wait_until(lambda: not client.connected, what="the client noticing the server is gone")
    world.services.sessions.end(issued.lease.session_id, "logout")  # while it is down
    assert issued.lease.session_id not in recorder.feed.revoked

    world.start_server()  # same port; its log follower starts after the revocation
    wait_until(lambda: client.ready, timeout=10, what="the client reconnecting")
    assert issued.lease.session_id in recorder.feed.revoked
    [(events, ready_when_delivered)] = recorder.deliveries
    assert [e.kind for e in events] == ["revoked"]
    assert not ready_when_delivered, "caught up through the events RPC, before ready"


def test_a_client_started_later_loads_what_happened_before(world, server):
    ended = world.session()
    world.services.sessions.end(ended.lease.session_id, "logout")
    client, recorder = world.ready_client()
    assert ended.lease.session_id in recorder.feed.revoked


def _padded(size: int) -> str:
    return json.dumps({"v": 1, "type": "events", "id": 1, "after": 0, "limit": 1,
                       "pad": "x" * size})


BAD_MESSAGES = {
    "not json": ("{not json", Malformed.close_code),
    "binary": (b'{"v":1,"type":"events","id":1,"after":0,"limit":1}', Malformed.close_code),
    "not an object": ("[1, 2]", Malformed.close_code),
    "no version": ('{"type": "events"}', Malformed.close_code),
    "oversized (70 KiB)": (_padded(70 * 1024), TooLarge.close_code),
    # over MAX_FRAME_BYTES websockets refuses it unread (1009): the memory bound
    "huge (200 KiB)": (_padded(200 * 1024), 1009),
    "unknown type": ('{"v": 1, "type": "nope"}', UnknownType.close_code),
    "server's type": ('{"v": 1, "type": "hello"}', Unexpected.close_code),
    "unknown field": (_padded(10), BadField.close_code),
}


@pytest.mark.parametrize("name", sorted(BAD_MESSAGES))
def test_a_bad_message_closes_that_connection_only(world, server, name):
    message, expected = BAD_MESSAGES[name]
    client, _ = world.ready_client()
    issued = world.session()
    with open_raw(world.uri) as ws:
        authenticate(ws, world.credential("raw"))
        ws.send(message)
        assert close_code(ws) == expected
    assert client.connected
    assert isinstance(client.call(Renew(issued.token)), RenewResult)


def test_a_bad_message_before_the_handshake_closes_that_connection(world, server):
    with open_raw(world.uri) as ws:
        ws.recv(timeout=5)  # hello
        ws.send("{not json")
        assert close_code(ws) == Malformed.close_code
    with open_raw(world.uri) as ws:
        ws.recv(timeout=5)
        ws.send('{"v":1,"type":"events","id":1,"after":0,"limit":1}')
        assert close_code(ws) == Unexpected.close_code


def test_a_flood_closes_that_connection_only(world, server):
    client, _ = world.ready_client()
    issued = world.session()
    with open_raw(world.uri) as ws:
        authenticate(ws, world.credential("raw"))
        try:
            for request_id in range(1, 20_001):
                ws.send(json.dumps({"v": 1, "type": "events", "id": request_id,
                                    "after": 0, "limit": 1}))
        except ConnectionClosed:
            pass  # closed while we were still sending
        assert close_code(ws) == Flood.close_code
    assert client.connected
    assert isinstance(client.call(Renew(issued.token)), RenewResult)


def test_the_unix_socket_serves_the_same_channel(world, tmp_path):
    path = tmp_path / "ch.sock"
    world.start_server(unix_path=path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o660
    client, recorder = world.client(world.credential(), uri=f"unix:{path}")
    assert client.wait_ready(5)
    issued = world.session()
    world.services.sessions.end(issued.lease.session_id, "logout")
    wait_until(lambda: issued.lease.session_id in recorder.feed.revoked,
               what="the revocation pushed over the unix socket")


def test_a_client_that_cannot_connect_keeps_trying(world):
    client, _ = world.client(world.credential())
    time.sleep(0.3)  # a few refused attempts
    assert not client.connected
    world.start_server()
    wait_until(lambda: client.ready, timeout=10, what="the client connecting once it can")


def test_a_client_given_several_hosts_fails_over_to_a_live_one(world):
    first = world.start_server()
    second_port = free_port()
    second = ServerThread(ChannelServer(world.store, world.services, world.settings),
                          second_port).start()
    world.servers.append(second)
    other = f"ws://127.0.0.1:{second_port}"
    client, recorder = world.client(world.credential(), uri=f"{world.uri}, {other}")
    assert client.wait_ready(5) and client.address.uri == world.uri

    first.stop()  # that host is gone: the client moves on without waiting a backoff
    issued = world.session()
    world.services.sessions.end(issued.lease.session_id, "logout")
    wait_until(lambda: client.ready and client.address.uri == other, timeout=3,
               what="the client failing over to the live host")
    wait_until(lambda: issued.lease.session_id in recorder.feed.revoked,
               what="the revocation from the live host")


@pytest.mark.parametrize("uris", ["", " , ", "http://a.example", ["ws://a", "ftp://b"]])
def test_a_bad_address_among_several_is_refused_at_construction(uris):
    with pytest.raises(ValueError):
        ChannelClient(uris, "app.c2VjcmV0", on_events=lambda events, now: None,
                      cursor=lambda: 0)
