"""Two workers of the login service on one memcached count short-code attempts together."""

from __future__ import annotations

import pytest

from flask_modular_login import create_app
from tests.conftest import csrf_from
from tests.support.access import Browser


@pytest.fixture
def workers(tmp_path, clock, memcached):
    """Two apps on one run directory and one memcached: two uwsgi processes."""
    config = {"LOGIN_RUN_DIR": str(tmp_path / "run"), "LOGIN_DEBUG": True, "TESTING": True,
              "LOGIN_MEMCACHED": memcached.spec}
    apps = [create_app(config, clock=clock) for _ in range(2)]
    yield apps
    for app in apps:
        app.extensions["flask_modular_login"].services.cache.close()


def log_in(app):
    def login(name, client):
        page = client.get("/login/test/")
        client.post("/login/test/", data={"username": name,
                                          "csrf_token": csrf_from(page.text)})
    return login


def test_attempts_in_either_worker_count_against_one_limit(workers, memcached):
    first, second = (Browser(app, log_in(app), "bob") for app in workers)
    statuses = [browser.post_json("/login/access/code", {"code": "ZZZZZZZZ"}).status_code
                for _ in range(5) for browser in (first, second)]
    assert statuses == [404] * 10
    refused = second.post_json("/login/access/code", {"code": "ZZZZZZZZ"})
    assert refused.status_code == 429 and refused.json["error"] == "rate_limited"
    assert first.post_json("/login/access/code", {"code": "ZZZZZZZZ"}).status_code == 429
    assert memcached.stats()["incr_hits"] >= 10
