"""Every example imports and builds its app with no login service running: no run dir, no
channel, and no network connection at all (sockets refuse to connect during the import)."""

from __future__ import annotations

import socket
import threading

import flask
import pytest
from aiohttp import web

from tests.support.servers import ROOT

# The aiohttp examples keep the original's string keys (see test_aiohttp_app.py).
pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")

STEMS = sorted(path.stem for path in (ROOT / "examples").glob("*.py"))


def test_the_examples_are_all_here():
    assert {"client_app", "access_group_app", "chat_images_app", "aiohttp_app",
            "remote_client_app", "remote_aiohttp_app"} <= set(STEMS)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network used at import: {args!r}")

    for name in ("create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, refuse)
    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)


@pytest.mark.parametrize("stem", STEMS)
def test_an_example_imports_and_builds_its_app_offline(stem, load_example, monkeypatch,
                                                       no_network):
    # The remote examples require a channel credential; a made-up one is never sent.
    monkeypatch.setenv("LOGIN_CHANNEL_CREDENTIAL", "example-app." + "x" * 43)
    before = set(threading.enumerate())
    app = load_example(stem).app
    started = [t.name for t in threading.enumerate() if t not in before]
    assert started == [], "a thread (a channel connection?) started at import"
    if isinstance(app, flask.Flask):
        assert len(list(app.url_map.iter_rules())) > 1      # static + the example's routes
        assert app.test_client() is not None
    else:
        assert isinstance(app, web.Application)
        assert len(app.router.routes()) >= 1
