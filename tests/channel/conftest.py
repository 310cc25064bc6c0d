"""A real channel server on 127.0.0.1 over a real migrated SQLite store, and real clients."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from flask_modular_login import keystore
from flask_modular_login.config import load_settings
from flask_modular_login.service import Services
from flask_modular_login.store import open_store
from tests.channel.harness import HEARTBEAT, ServerThread, World
from tests.support.servers import free_port


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    settings = load_settings(environ={}, run_dir=tmp_path / "run",
                             channel_heartbeat_seconds=HEARTBEAT)
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


@pytest.fixture
def server(world: World) -> ServerThread:
    return world.start_server()


@pytest.fixture(autouse=True)
def _channel_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="flask_modular_login.channel")
