"""The RPCs a remote client app uses: renew a lease, check and manage access groups, read
the event log; and the events they cause, pushed to every connected client."""

from __future__ import annotations

import time

import pytest

from flask_modular_login import keystore
from flask_modular_login.channel.client import (
    ChannelClient,
    ChannelRpcError,
    ChannelUnavailable,
)
from flask_modular_login.core import leases
from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.invitations import Grant
from flask_modular_login.core.protocol.messages import (
    AddMember,
    AddMemberResult,
    Check,
    CheckResult,
    EnsureGroup,
    EnsureGroupResult,
    Events,
    RemoveMember,
    RemoveMemberResult,
    Renew,
    RenewResult,
)
from tests.channel.harness import Recorder, wait_until

CHAT = GroupPath("chat")


def test_renew_returns_a_genuine_lease_until_the_session_ends(world, server):
    client, _ = world.ready_client()
    issued = world.session()
    result = client.call(Renew(issued.token))
    assert isinstance(result, RenewResult)
    lease = leases.verify_signature(result.token, keystore.load(world.settings.keys_dir).ring)
    assert lease.session_id == issued.lease.session_id
    assert lease.user_id == issued.lease.user_id

    world.store.sessions.revoke(issued.lease.session_id, "logout", int(time.time()))
    with pytest.raises(ChannelRpcError) as refused:
        client.call(Renew(issued.token))
    assert refused.value.code == "session_ended"


def test_renew_refuses_a_token_that_is_not_ours(world, server):
    client, _ = world.ready_client()
    issued = world.session()
    header, payload, signature = issued.token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    for token in (forged, "garbage"):
        with pytest.raises(ChannelRpcError) as refused:
            client.call(Renew(token))
        assert refused.value.code == "lease_invalid"
    assert client.connected  # an error fails the request, never the connection


def test_check_answers_from_the_store_with_until(world, server):
    client, _ = world.ready_client()
    room = CHAT / "room1"
    assert client.call(EnsureGroup(room, ("test", "owner"))) == EnsureGroupResult(True)
    assert client.call(EnsureGroup(room, ("test", "someone else"))) == EnsureGroupResult(False)

    denied = client.call(Check("u1", room + (CHAT / "room2")))
    assert denied == CheckResult(False, {"chat/room1": None, "chat/room2": None}, None)

    expires = time.time() + 3600
    assert client.call(AddMember(room, "u1", Grant(expires=expires))) == AddMemberResult()
    allowed = client.call(Check("u1", (room / "thread") + (CHAT / "room2")))
    assert isinstance(allowed, CheckResult)
    assert allowed.allowed
    assert allowed.via == {"chat/room1/thread": "chat/room1", "chat/room2": None}
    assert allowed.until == pytest.approx(expires)
    assert not client.call(Check("u1", ~room)).allowed

    assert client.call(RemoveMember(room, "u1")) == RemoveMemberResult(True)
    assert client.call(RemoveMember(room, "u1")) == RemoveMemberResult(False)
    assert not client.call(Check("u1", room)).allowed


def test_membership_changes_are_pushed(world, server):
    client, recorder = world.ready_client()
    watcher, watched = world.ready_client("watcher")
    client.call(AddMember(CHAT / "room1", "u1"))
    client.call(RemoveMember(CHAT / "room1", "u1"))
    for seen in (recorder, watched):
        wait_until(lambda seen=seen: [e.kind for e in seen.events()] == ["added", "removed"],
                   what="the membership events pushed")
    assert {(e.user_id, e.group) for e in watched.events()} == {("u1", "chat/room1")}


def test_a_revocation_reaches_two_connected_clients_within_a_second(world, server):
    first, one = world.ready_client("one")
    second, two = world.ready_client("two")
    issued = world.session()
    session_id = issued.lease.session_id
    assert session_id not in one.feed.revoked
    start = time.monotonic()
    world.services.sessions.end(session_id, "logout")
    wait_until(lambda: session_id in one.feed.revoked and session_id in two.feed.revoked,
               timeout=1.0, what="the revocation reaching both clients")
    assert time.monotonic() - start < 1.0
    [event] = one.events()
    assert event.kind == "revoked" and event.leases_end == issued.lease.expires_at


def test_a_call_while_disconnected_fails_closed(world):
    client, _ = world.client(world.credential())
    assert not client.connected
    with pytest.raises(ChannelUnavailable):
        client.call(Events(after=0, limit=1))


def test_an_invalid_call_is_refused_before_it_is_sent(world, server):
    client, _ = world.ready_client()
    with pytest.raises(ChannelRpcError) as refused:
        client.call(Renew("x" * 5000))
    assert refused.value.code == "bad_field"
    assert client.connected


def test_a_cursor_behind_dropped_events_is_expired_and_the_client_starts_over(world, server):
    sessions = [world.session(f"user{n}") for n in range(3)]
    for issued in sessions:
        world.services.sessions.end(issued.lease.session_id, "logout")
    newest = world.store.events.cursor()
    world.store.events.purge(time.time() + 10 * world.settings.lease_seconds, keep_seconds=0)
    assert [e.cursor for e in world.store.events.after(0)] == [newest]  # the rest dropped

    client, _ = world.ready_client()
    with pytest.raises(ChannelRpcError) as expired:
        client.call(Events(after=newest - 2, limit=10))
    assert expired.value.code == "cursor_expired"
    assert client.call(Events(after=newest - 1, limit=10)).events[0].cursor == newest

    resets: list[bool] = []
    recorder = Recorder()
    recorder.feed.revoked.cursor = newest - 2  # what a client that was away has read
    late = ChannelClient(world.uri, world.credential("late"), on_events=recorder.on_events,
                         cursor=recorder.cursor, on_reset=lambda: resets.append(True))
    world.clients.append(late)
    late.start()
    assert late.wait_ready(5)
    assert resets == [True]
    assert recorder.feed.cursor == newest


def test_events_come_in_pages_and_skip_client_revocations(world, server):
    client, _ = world.ready_client()
    ended = [world.session(f"user{n}") for n in range(3)]
    world.services.sessions.end(ended[0].lease.session_id, "logout")
    world.credential("gone")
    world.store.clients.revoke("gone", int(time.time()))
    for issued in ended[1:]:
        world.services.sessions.end(issued.lease.session_id, "logout")
    log = [event.cursor for event in world.store.events.after(0)]  # revoked, client, 2 x revoked
    seen, after, cursors = [], 0, []
    while True:
        page = client.call(Events(after=after, limit=2))
        seen += [event.session_id for event in page.events]
        after = page.cursor
        cursors.append(after)
        if not page.more:
            break
    assert seen == [issued.lease.session_id for issued in ended]
    assert cursors == [log[1], log[3], log[3]]  # read past the skipped client revocation
    empty = client.call(Events(after=after, limit=2))
    assert empty.events == () and empty.cursor == after and not empty.more
