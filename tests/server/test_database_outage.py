"""The login service on PostgreSQL while PostgreSQL stops and starts again: requests fail
closed with 503 (never a 500, nothing half-written, no renewed cookie) while it is down,
and the same process serves again once it is back (connections are checked before use).

The PostgreSQL is the test module's own (:func:`tests.support.postgres.running_postgres`),
so stopping it disturbs no other test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import flask
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from flask_modular_login import create_app
from flask_modular_login.server.errors import DatabaseUnavailable, database_unavailable
from flask_modular_login.server.state import current_state
from flask_modular_login.store.tables import events, sessions
from tests.conftest import FrozenClock, csrf_from
from tests.support.postgres import PostgresServer, running_postgres

LEASE = 15 * 60
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture
def service(own_postgres: PostgresServer, run_dir, clock: FrozenClock) -> Iterator[flask.Flask]:
    """The login service (the root conftest's fixture) on the module's PostgreSQL."""
    url = own_postgres.database()
    app = create_app({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": True, "TESTING": True,
                      "LOGIN_DATABASE_URL": url}, clock=clock)
    yield app
    with app.app_context():
        current_state().store.dispose()
    if not own_postgres.running():
        own_postgres.start()
    own_postgres.drop(url)


def counts(app: flask.Flask) -> tuple[int, int]:
    """(sessions, events) in the database."""
    with app.app_context(), current_state().store.read() as conn:
        return (conn.execute(select(func.count()).select_from(sessions)).scalar_one(),
                conn.execute(select(func.count()).select_from(events)).scalar_one())


def test_requests_fail_closed_while_postgresql_is_down_and_recover_after(
        own_postgres, service, service_client, login, clock, caplog):
    caplog.set_level(logging.WARNING, logger="flask_modular_login.server")
    login("alice")
    assert service_client.get("/login/me").json["user"]["name"] == "alice"
    token = csrf_from(service_client.get("/login/view/sessions").text)
    before = counts(service)
    clock.advance(LEASE + 60)  # the lease ran out: the next request renews it (a write)
    own_postgres.stop("fast")
    try:
        renewal = service_client.get("/login/me", headers=JSON)
        assert renewal.status_code == 503, renewal.text
        assert renewal.json["error"] == "database_unavailable"
        assert renewal.headers["Retry-After"] == "5"
        assert "login=" not in renewal.headers.get("Set-Cookie", ""), "a renewal slipped out"
        page = service_client.get("/login/view/sessions", headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert "cannot reach its database" in page.text
        logout = service_client.post("/login/logout", data={"csrf_token": token},
                                     headers=JSON)
        assert logout.status_code == 503, logout.text
        assert logout.json["error"] == "database_unavailable"
    finally:
        own_postgres.start()
    assert counts(service) == before, "something was written while the database was down"
    renewed = service_client.get("/login/me")
    assert renewed.status_code == 200
    assert renewed.json["user"]["name"] == "alice"
    assert "login=" in renewed.headers["Set-Cookie"]
    messages = [r.getMessage() for r in caplog.records]
    assert any("database is unavailable (OperationalError)" in m for m in messages), messages
    assert not any("postgres@" in m for m in messages)


def test_only_an_unreachable_database_is_a_503():
    refused = OperationalError("SELECT 1", {}, Exception("connection refused"))
    bug = IntegrityError("INSERT", {}, Exception("duplicate key"))
    assert database_unavailable(refused)
    assert not database_unavailable(bug)
    assert DatabaseUnavailable.code == 503
