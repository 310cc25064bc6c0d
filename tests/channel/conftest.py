"""A real channel server on 127.0.0.1 over a real migrated SQLite store, and real clients."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.channel.harness import HEARTBEAT, ServerThread, World, making_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with making_world(tmp_path, HEARTBEAT) as made:
        yield made


@pytest.fixture
def server(world: World) -> ServerThread:
    return world.start_server()


@pytest.fixture(autouse=True)
def _channel_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="flask_modular_login.channel")
