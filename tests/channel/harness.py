"""The channel tests' world: a real server thread, real clients, a real SQLite store."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from flask_modular_login import keystore
from flask_modular_login.channel.client import ChannelClient
from flask_modular_login.channel.server import ChannelServer
from flask_modular_login.client.events import EventFeed
from flask_modular_login.config import Settings, load_settings
from flask_modular_login.core.events import Event
from flask_modular_login.core.leases import Issued
from flask_modular_login.core.protocol.auth import new_credential, parse_credential
from flask_modular_login.service import Services
from flask_modular_login.store import Store, open_store
from tests.support.servers import free_port

HEARTBEAT = 0.5
"""Seconds between heartbeats in these tests (the client counts 2 s of silence as down)."""


def wait_until(predicate: Callable[[], object], timeout: float = 5.0,
               what: str = "the condition") -> float:
    """Poll ``predicate`` until it is true; the seconds it took. Fails after ``timeout``."""
    start = time.monotonic()
    deadline = start + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.005)
    return time.monotonic() - start


class ServerThread:
    """A :class:`ChannelServer` serving on its own event loop in a background thread."""

    def __init__(self, server: ChannelServer, port: int, unix_path: Path | None = None) -> None:
        self.server = server
        self.port = port
        self.unix_path = unix_path
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="channel-server")

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve("127.0.0.1", self.port, self.unix_path))
        except BaseException as error:  # reported by start()/stop(), not lost in the thread
            self.error = error

    def start(self) -> ServerThread:
        self._thread.start()
        wait_until(lambda: self.server.listening.is_set() or self.error is not None,
                   what="the channel server listening")
        if self.error is not None:
            raise self.error
        return self

    def stop(self) -> None:
        self.server.stop()
        self._thread.join(10)
        assert not self._thread.is_alive(), "the channel server did not stop"
        if self.error is not None:
            raise self.error

    @property
    def uri(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@dataclass
class Recorder:
    """A remote client's event feed: the real :class:`EventFeed` and every delivery."""

    feed: EventFeed = field(default_factory=EventFeed)
    deliveries: list[tuple[list[Event], bool]] = field(default_factory=list)
    client: ChannelClient | None = None

    def on_events(self, events: list[Event], now: float) -> None:
        self.deliveries.append((events, self.client.ready if self.client else False))
        self.feed.apply(events, now)

    def cursor(self) -> int:
        return self.feed.cursor

    def events(self) -> list[Event]:
        return [event for batch, _ in self.deliveries for event in batch]


@dataclass
class World:
    """Everything a channel test needs (see the fixture ``world``)."""

    settings: Settings
    store: Store
    services: Services
    port: int
    tmp_path: Path
    servers: list[ServerThread] = field(default_factory=list)
    clients: list[ChannelClient] = field(default_factory=list)

    def start_server(self, unix_path: Path | None = None) -> ServerThread:
        server = ChannelServer(self.store, self.services, self.settings)
        thread = ServerThread(server, self.port, unix_path).start()
        self.servers.append(thread)
        return thread

    @property
    def uri(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def credential(self, name: str = "app") -> str:
        """A new client ``name`` allowed on the channel; its credential."""
        credential = new_credential(name, secrets.token_bytes(32))
        self.store.clients.add(name, parse_credential(credential)[1], int(time.time()))
        return credential

    def client(self, credential: str, uri: str | None = None,
               recorder: Recorder | None = None) -> tuple[ChannelClient, Recorder]:
        """A started :class:`ChannelClient` (closed after the test) and its recorder."""
        recorder = recorder or Recorder()
        client = ChannelClient(uri or self.uri, credential, on_events=recorder.on_events,
                               cursor=recorder.cursor)
        recorder.client = client
        self.clients.append(client)
        client.start()
        return client, recorder

    def ready_client(self, name: str = "app") -> tuple[ChannelClient, Recorder]:
        client, recorder = self.client(self.credential(name))
        assert client.wait_ready(5), "the client did not catch up"
        return client, recorder

    def session(self, username: str = "alice") -> Issued:
        """A live session of a new user, and its first lease."""
        user = self.store.accounts.login("test", username, username, None, int(time.time()))
        return self.services.sessions.start(user.id, "test")


@contextlib.contextmanager
def making_world(tmp_path: Path, heartbeat: float) -> Iterator[World]:
    """A :class:`World` whose server sends a heartbeat every ``heartbeat`` seconds; its
    clients and servers stopped and its store closed at the end."""
    settings = load_settings(environ={}, run_dir=tmp_path / "run",
                             channel_heartbeat_seconds=heartbeat)
    keystore.load(settings.keys_dir, create=True)
    store = open_store(settings.database_url, migrate=True)
    services = Services.build(store, keystore.KeyCache(settings.keys_dir).get, settings)
    world = World(settings, store, services, free_port(), tmp_path)
    try:
        yield world
    finally:
        for client in world.clients:
            client.close()
        for server in world.servers:
            server.stop()
        store.dispose()
