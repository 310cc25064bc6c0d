"""memcached killed mid-run: the login service keeps answering from its database, and uses
memcached again once it is back."""

from __future__ import annotations

import time

import pytest

from flask_modular_login import create_app
from flask_modular_login.cache import memcached as memcached_module
from flask_modular_login.core.groups import GroupPath, Held
from tests.conftest import csrf_from

CHAT = GroupPath.parse("chat")
LEASE = 900


@pytest.fixture
def app(tmp_path, clock, memcached, monkeypatch):
    monkeypatch.setattr(memcached_module, "RETRY_SECONDS", 0.05)
    monkeypatch.setattr(memcached_module, "DEAD_SECONDS", 0.2)
    app = create_app({"LOGIN_RUN_DIR": str(tmp_path / "run"), "LOGIN_DEBUG": True,
                      "TESTING": True, "LOGIN_MEMCACHED": memcached.spec,
                      "LOGIN_LEASE_SECONDS": LEASE}, clock=clock)
    yield app
    app.extensions["flask_modular_login"].services.cache.close()


def logged_in(app, name):
    client = app.test_client()
    page = client.get("/login/test/")
    client.post("/login/test/", data={"username": name, "csrf_token": csrf_from(page.text)})
    assert client.get_cookie("login") is not None
    return client


def test_requests_never_fail_while_memcached_dies_and_comes_back(app, clock, memcached):
    state = app.extensions["flask_modular_login"]  # no app context held across requests
    alice, bob = logged_in(app, "alice"), logged_in(app, "bob")
    alice_id = alice.get("/login/me").json["user"]["id"]
    state.store.access.ensure_group(CHAT, int(clock()))
    state.access.add_member(None, CHAT, alice_id)
    ended = state.verifier.lease(bob.get_cookie("login").value)
    assert state.sessions.end(ended.session_id, "logout")
    failures: list[object] = []

    def one_round():
        clock.advance(LEASE + 1)  # every lease ran out: each request renews its session
        if (status := alice.get("/login/me").status_code) != 200:
            failures.append(("alice", status))
        if (status := bob.get("/login/me").status_code) != 401:
            failures.append(("bob", status))
        bob.set_cookie("login", bob_token)  # the ended session's cookie, again and again
        answer = state.access.grants(alice_id, [CHAT / "room"], clock())
        if answer != {CHAT / "room": Held(CHAT, None)}:
            failures.append(("grants", answer))

    bob_token = bob.get_cookie("login").value
    for _ in range(10):
        one_round()
    assert memcached.stats()["get_hits"] >= 20, "memcached in use (tombstone, answers)"
    memcached.kill()
    started = time.monotonic()
    for _ in range(10):
        one_round()
    assert time.monotonic() - started < 5, "a dead memcached costs little"
    memcached.start()
    time.sleep(0.3)  # its dead time passes
    for _ in range(10):
        one_round()
    assert failures == []
    assert memcached.stats()["get_hits"] >= 10, "used again once it came back"
