"""The channel's doorbell: a change committed by another process on this host (the login
service under uwsgi, the CLI) reaches the channel's clients at once, not at its next poll."""

from __future__ import annotations

import asyncio
import time

from flask_modular_login import keystore
from flask_modular_login.bell import BELL_NAME, Bell, ring
from flask_modular_login.channel.server import ChannelServer
from flask_modular_login.service import Services
from tests.channel.harness import ServerThread, wait_until


def test_a_ring_without_a_channel_is_nothing(tmp_path):
    ring(tmp_path / BELL_NAME)  # no socket there: no error
    (tmp_path / BELL_NAME).write_text("not a socket")
    ring(tmp_path / BELL_NAME)


def test_rings_are_heard_on_the_loop_and_together_once(tmp_path):
    heard = []

    async def listen() -> None:
        bell = Bell(tmp_path / BELL_NAME, lambda: heard.append(time.monotonic()))
        assert bell.open(asyncio.get_running_loop())
        for _ in range(3):
            ring(tmp_path / BELL_NAME)
        await asyncio.sleep(0.05)
        bell.close()

    asyncio.run(listen())
    assert len(heard) == 1
    assert not (tmp_path / BELL_NAME).exists(), "closing removes the socket"


def test_a_logout_by_another_process_reaches_clients_without_waiting_for_the_poll(world):
    sockets = world.settings.sockets_dir
    sockets.mkdir(parents=True, exist_ok=True)
    server = ChannelServer(world.store, world.services, world.settings, poll_seconds=5.0)
    world.servers.append(ServerThread(server, world.port, sockets / "channel.sock").start())
    client, recorder = world.ready_client()
    # The login service's own Services (its notifier rings the bell; it shares no
    # listener with the channel, as a uwsgi worker does not).
    service = Services.build(world.store, keystore.KeyCache(world.settings.keys_dir).get,
                             world.settings)
    issued = world.session()
    start = time.monotonic()
    service.sessions.end(issued.lease.session_id, "logout")
    wait_until(lambda: issued.lease.session_id in recorder.feed.revoked, timeout=2,
               what="the revocation pushed after the ring")
    assert time.monotonic() - start < 1.0, "heard through the bell, not the 5 s poll"
