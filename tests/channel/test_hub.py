"""The channel's reader of the event log tells the shared cache about every membership
change it reads, whoever made it, before pushing the change to clients."""

from __future__ import annotations

import asyncio
import time

from flask_modular_login.channel import hub as hub_module
from flask_modular_login.channel.hub import Hub
from flask_modular_login.core.events import Event
from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.protocol import messages

ROOM = GroupPath("chat", ("room",))


def test_the_hub_forgets_the_answers_of_users_whose_memberships_changed(world):
    store = world.store
    users = [store.accounts.login("test", name, name, None, int(time.time())).id
             for name in ("ann", "ben")]
    forgotten: list[str] = []
    hub = Hub(store.events, changed=forgotten.append)

    async def follow() -> None:
        await hub.start()
        store.access.ensure_group(ROOM, int(time.time()))
        for user_id in users:  # written to the store directly, as a local app does
            store.access.add_member(ROOM, user_id, int(time.time()))
        world.services.sessions.end(world.session("cat").lease.session_id, "logout")
        await hub.drain()

    asyncio.run(follow())
    assert sorted(forgotten) == sorted(users), "membership events only, each user once"


def test_a_cache_that_fails_never_stops_the_pushes(world):
    def broken(_user_id: str) -> None:
        raise OSError("memcached is gone")

    hub = Hub(world.store.events, changed=broken)
    user = world.store.accounts.login("test", "dan", "dan", None, int(time.time())).id

    async def follow() -> int:
        await hub.start()
        world.store.access.ensure_group(ROOM, int(time.time()))
        world.store.access.add_member(ROOM, user, int(time.time()))
        await hub.drain()
        return hub.cursor

    assert asyncio.run(follow()) == world.store.events.cursor()


class RecordingPeer:
    """A welcomed peer's stand-in: what the hub queued for it."""

    closing = False

    def __init__(self) -> None:
        self.conn = self
        self.sent: list[str] = []

    def send_event(self, event: Event, text: str | None = None) -> str:
        assert text is not None, "the hub hands every connection the event already encoded"
        return text

    def send(self, text: str) -> None:
        self.sent.append(text)


def test_each_event_is_encoded_once_however_many_peers_hear_it(world, monkeypatch):
    encoded: list[Event] = []

    def counting(event: Event) -> str:
        encoded.append(event)
        return messages.encode(event)

    monkeypatch.setattr(hub_module, "encode", counting)
    hub = Hub(world.store.events)
    peers = [RecordingPeer() for _ in range(50)]

    async def follow() -> None:
        await hub.start()
        for peer in peers:
            hub.add(peer)  # type: ignore[arg-type]
        world.services.sessions.end(world.session("eve").lease.session_id, "logout")
        await hub.drain()

    asyncio.run(follow())
    [event] = encoded
    assert event.kind == "revoked"
    assert all(peer.sent == [messages.encode(event)] for peer in peers)
