"""Every channel connection is authenticated (docs/security.md, 18): a client proves its own
credential; replayed, stale, revoked, wrong and unknown handshakes are refused with the
protocol's close code; revoking a connected client cuts it off at once."""

from __future__ import annotations

import json
import logging
import secrets
import time

from flask_modular_login.core.protocol.auth import new_credential
from flask_modular_login.core.protocol.errors import (
    AuthFailed,
    Replayed,
    RevokedClient,
    Stale,
)
from flask_modular_login.core.protocol.messages import Events, EventsResult
from tests.channel.harness import wait_until
from tests.channel.raw import authenticate, close_code, open_raw, send_auth


def test_a_client_with_its_credential_connects_and_catches_up(world, server):
    client, _ = world.client(world.credential("app"))
    assert client.wait_ready(5)
    assert client.connected and client.ready
    assert isinstance(client.call(Events(after=0, limit=10)), EventsResult)


def test_the_welcome_carries_the_cursor_and_heartbeats_follow(world, server):
    issued = world.session()
    world.services.sessions.end(issued.lease.session_id, "logout")
    newest = world.store.events.cursor()
    wait_until(lambda: server.server.cursor == newest, what="the hub reading the log")
    with open_raw(world.uri) as ws:
        conn, _ = authenticate(ws, world.credential("app"))
        assert conn.cursor == newest
        heartbeat = json.loads(ws.recv(timeout=3))
        assert heartbeat["type"] == "heartbeat" and heartbeat["cursor"] == newest


def test_a_replayed_auth_is_refused_on_another_connection_and_on_its_own(world, server):
    credential = world.credential("app")
    with open_raw(world.uri) as first:
        _, auth = authenticate(first, credential)
        with open_raw(world.uri) as second:
            assert json.loads(second.recv(timeout=5))["type"] == "hello"
            second.send(auth)  # answers the first connection's nonce
            assert close_code(second) == Replayed.close_code
        first.send(auth)  # the same auth again, on the connection that accepted it
        assert close_code(first) == Replayed.close_code


def test_a_stale_auth_is_refused(world, server):
    with open_raw(world.uri) as ws:
        send_auth(ws, world.credential("app"), skew=-120)
        assert close_code(ws) == Stale.close_code


def test_a_revoked_credential_is_refused(world, server, caplog):
    credential = world.credential("app")
    world.store.clients.revoke("app", int(time.time()))
    with open_raw(world.uri) as ws:
        auth = send_auth(ws, credential)
        assert close_code(ws) == RevokedClient.close_code
    assert "revoked_client" in caplog.text  # logged, without the credential or the proof
    assert credential.rpartition(".")[2] not in caplog.text
    assert json.loads(auth)["proof"] not in caplog.text


def test_another_clients_secret_and_an_unknown_name_are_refused_alike(world, server,
                                                                      caplog):
    caplog.set_level(logging.INFO, logger="flask_modular_login.channel")
    world.credential("app")
    wrong = new_credential("app", secrets.token_bytes(32))  # right name, wrong secret
    stranger = new_credential("stranger", secrets.token_bytes(32))
    for credential in (wrong, stranger):
        with open_raw(world.uri) as ws:
            auth = send_auth(ws, credential)
            assert close_code(ws) == AuthFailed.close_code
        assert credential.rpartition(".")[2] not in caplog.text
        assert json.loads(auth)["proof"] not in caplog.text
    assert caplog.text.count("auth_failed") >= 2


def test_revoking_a_connected_client_closes_its_connections_at_once(world, server):
    client, _ = world.ready_client("app")
    other, _ = world.ready_client("other")
    with open_raw(world.uri) as raw:
        authenticate(raw, world.credential("app2"))
        world.store.clients.revoke("app", int(time.time()))
        elapsed = wait_until(lambda: not client.connected, timeout=1.0,
                             what="the revoked client's disconnection")
        assert elapsed < 1.0
        assert client.last_close_code == RevokedClient.close_code
        world.store.clients.revoke("app2", int(time.time()))
        assert close_code(raw, timeout=1.0) == RevokedClient.close_code
    assert other.connected
    assert isinstance(other.call(Events(after=0, limit=10)), EventsResult)


def test_client_revocations_are_never_sent_to_clients(world, server):
    client, recorder = world.ready_client("app")
    world.credential("gone")
    world.store.clients.revoke("gone", int(time.time()))
    issued = world.session()
    world.services.sessions.end(issued.lease.session_id, "logout")
    wait_until(lambda: issued.lease.session_id in recorder.feed.revoked,
               what="the revocation pushed")
    result = client.call(Events(after=0, limit=100))
    assert isinstance(result, EventsResult)
    assert {event.kind for event in result.events} == {"revoked"}
    assert all(event.kind != "client_revoked" for event in recorder.events())

    world.store.clients.revoke("app", int(time.time()))  # the newest event is for the server
    wait_until(lambda: server.server.cursor == world.store.events.cursor(),
               what="the server reading the revocation")
    late, late_recorder = world.ready_client("late")  # welcomed at that cursor: catches up
    assert [event.kind for event in late_recorder.events()] == ["revoked"]
