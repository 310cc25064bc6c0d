"""Two hosts on one PostgreSQL: a change made through host A reaches the remote clients of
host B's channel server within 100 ms, through LISTEN/NOTIFY alone.

Host B's hub polls the log only every 5 s here and B's own notifier is never
called (A's service has its own), so nothing but PostgreSQL's notification can
explain a push within 100 ms. The listener survives PostgreSQL restarting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flask_modular_login import keystore
from flask_modular_login.channel.pg_listen import backoff
from flask_modular_login.channel.server import ChannelServer
from flask_modular_login.config import load_settings
from flask_modular_login.core.events import REVOKED
from flask_modular_login.service import Services
from flask_modular_login.store import Store, open_store
from tests.channel.harness import HEARTBEAT, ServerThread, World, wait_until
from tests.support.postgres import (
    PostgresServer,
    postgres,  # noqa: F401 (the fixture)
    running_postgres,
)
from tests.support.servers import free_port

SLOW_POLL = 5.0
"""Host B's hub polls this seldom: only a notification explains a faster push."""
WITHIN = 0.1


class Host:
    """One login-service host: its own engine on the shared database, its own services."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.settings = load_settings(environ={}, run_dir=tmp_path / "run", database_url=url,
                                      channel_heartbeat_seconds=HEARTBEAT)
        keystore.load(self.settings.keys_dir, create=True)
        self.store: Store = open_store(url)
        self.services = Services.build(self.store, keystore.KeyCache(self.settings.keys_dir).get,
                                       self.settings)


@pytest.fixture
def hosts(postgres: PostgresServer, tmp_path: Path) -> Iterator[tuple[Host, World]]:  # noqa: F811
    """Host A (service only) and host B (a channel server with a slow poll), one database."""
    url = postgres.database()
    a = Host(url, tmp_path)
    b = Host(url, tmp_path)
    world = World(b.settings, b.store, b.services, free_port(), tmp_path)
    try:
        yield a, world
    finally:
        for client in world.clients:
            client.close()
        for server in world.servers:
            server.stop()
        a.store.dispose()
        b.store.dispose()
        postgres.drop(url)


def start_slow_server(world: World) -> ServerThread:
    server = ChannelServer(world.store, world.services, world.settings, poll_seconds=SLOW_POLL)
    thread = ServerThread(server, world.port).start()
    world.servers.append(thread)
    assert server.notifications is not None, "a PostgreSQL store has a listener"
    wait_until(server.notifications.listening.is_set, what="the channel LISTENing")
    return thread


def logout_through(host: Host, world: World, username: str) -> tuple[str, float]:
    """Log ``username`` in and out through ``host``; the session id and when it committed."""
    issued = world.session(username)  # host B's store: only the logout is through A
    time.sleep(0.2)  # any wake-up of B from the login is over
    assert host.services.sessions.end(issued.lease.session_id, "logout")
    return issued.lease.session_id, time.monotonic()


def test_a_logout_through_another_host_is_pushed_within_100_ms(hosts):
    a, world = hosts
    start_slow_server(world)
    _, recorder = world.ready_client()
    for attempt in range(3):
        session_id, committed = logout_through(a, world, f"user{attempt}")
        wait_until(lambda sid=session_id: sid in recorder.feed.revoked,
                   timeout=SLOW_POLL / 2, what="the revocation pushed")
        took = time.monotonic() - committed
        assert took < WITHIN, f"pushed after {took * 1000:.0f} ms"
    kinds = [event.kind for event in recorder.events()]
    assert kinds.count(REVOKED) == 3


def test_the_listener_reconnects_after_postgresql_restarts(tmp_path, caplog):
    """PostgreSQL stops (fast: every connection cut) and starts again: the channel server
    keeps running, logs the loss once, listens again, and pushes within 100 ms again."""
    caplog.set_level(logging.INFO, logger="flask_modular_login.channel")
    with running_postgres() as server:
        url = server.database()
        a = Host(url, tmp_path / "a")
        world = World(*_host_b(url, tmp_path / "b"), free_port(), tmp_path)
        try:
            thread = start_slow_server(world)
            listener = thread.server.notifications
            assert listener is not None
            _, recorder = world.ready_client()
            restart(server)
            wait_until(listener.listening.is_set, timeout=10, what="listening again")
            session_id, committed = logout_through(a, world, "after")
            wait_until(lambda: session_id in recorder.feed.revoked,
                       timeout=SLOW_POLL / 2, what="the revocation pushed")
            assert time.monotonic() - committed < WITHIN
            assert thread.server.listening.is_set()
        finally:
            for client in world.clients:
                client.close()
            for running in world.servers:
                running.stop()
            a.store.dispose()
            world.store.dispose()
    messages = [r.getMessage() for r in caplog.records]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum("notifications lost" in m for m in warnings) == 1, messages
    assert any("listening again" in m for m in messages)
    assert not any("postgres@" in m or "postgresql://" in m for m in messages)


def restart(server: PostgresServer) -> None:
    server.stop("fast")
    time.sleep(0.5)  # a few reconnection attempts fail meanwhile
    server.start()


def _host_b(url: str, tmp_path: Path) -> tuple:
    host = Host(url, tmp_path)
    return host.settings, host.store, host.services


def test_backoff_doubles_from_a_tenth_of_a_second_to_half_a_minute():
    assert [backoff(n) for n in range(5)] == [0.0, 0.1, 0.2, 0.4, 0.8]
    assert backoff(12) == 30.0
    assert backoff(1000) == 30.0


def test_a_channel_server_on_sqlite_does_not_listen(world):
    """One machine: the service's notifier and polling wake the hub; psycopg is not loaded."""
    server = ChannelServer(world.store, world.services, world.settings)
    assert server.notifications is None
