"""The user database refusing writes: read-only, or its disk full. Writes answer 503 with
a clear code (``database_read_only``, ``storage_full``) and ``Retry-After``, never a 500,
and write nothing; reads (pages, ``/login/me`` on a valid lease, a client app's checks)
keep answering 200; once the fault is gone, writes work again in the same process.

Tests run as root, so file modes do not stop writes. A read-only database is what
SQLite reports for a file it may not write (``SQLITE_READONLY``); here every connection
of the service gets ``PRAGMA query_only`` (the same error, without remounting anything).
PostgreSQL is made read-only with ``default_transaction_read_only``, as a standby is.
The disk is a real one: a 4 MiB tmpfs holding the run directory of a real service
process, filled up with a file (``SQLITE_FULL`` from the kernel's ``ENOSPC``); it needs
the right to mount (skipped without it, failed in CI).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import flask
import pytest
import requests
from sqlalchemy import event, func, select

from flask_modular_login import create_app
from flask_modular_login.server.state import current_state
from flask_modular_login.store.tables import audit, events, sessions
from tests.conftest import FrozenClock, csrf_from
from tests.support.postgres import PostgresServer, postgres  # noqa: F401
from tests.support.servers import free_port, python, running

JSON = {"Accept": "application/json"}
LEASE = 15 * 60


def rows(app: flask.Flask) -> tuple[int, int, int]:
    """(sessions, events, audit entries) in the service's database."""
    with app.app_context(), current_state().store.read() as conn:
        return tuple(conn.execute(select(func.count()).select_from(table)).scalar_one()
                     for table in (sessions, events, audit))  # type: ignore[return-value]


@contextlib.contextmanager
def read_only(app: flask.Flask) -> Iterator[None]:
    """Every connection of ``app``'s store refuses writes until the block ends."""
    with app.app_context():
        engine = current_state().store.engine

    def query_only(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    event.listen(engine, "connect", query_only)
    engine.dispose()  # pooled connections are replaced by refusing ones
    try:
        yield
    finally:
        event.remove(engine, "connect", query_only)
        engine.dispose()


def test_a_read_only_database_refuses_writes_with_503_and_serves_reads(
        service, service_client, login, interface, clock, caplog):
    token = login("alice")
    csrf = csrf_from(service_client.get("/login/view/sessions").text)
    before = rows(service)
    with read_only(service):
        other = service.test_client()
        page = other.get("/login/test/")
        refused = other.post("/login/test/", headers=JSON,
                             data={"username": "bob", "csrf_token": csrf_from(page.text)})
        assert refused.status_code == 503, refused.text
        assert refused.json["error"] == "database_read_only"
        assert refused.headers["Retry-After"] == "60"
        logout = service_client.post("/login/logout", headers=JSON, data={"csrf_token": csrf})
        assert logout.status_code == 503 and logout.json["error"] == "database_read_only"
        html = service_client.post("/login/logout", data={"csrf_token": csrf},
                                   headers={"Accept": "text/html"})
        assert html.status_code == 503 and "database is read-only" in html.text
        assert service_client.get("/login/me").json["user"]["name"] == "alice"
        assert service_client.get("/login/view/sessions").status_code == 200
        assert service_client.get("/login/access/view/groups").status_code == 200
        assert interface.authenticate(token).user["name"] == "alice"
        clock.advance(LEASE + 60)  # renewing is a write: refused, no new cookie
        renewal = service_client.get("/login/me", headers=JSON)
        assert renewal.status_code == 503, renewal.text
        assert "login=" not in renewal.headers.get("Set-Cookie", "")
        assert rows(service) == before, "something was written to a read-only database"
    assert "database_read_only (SQLITE_READONLY)" in caplog.text
    assert service_client.get("/login/me").json["user"]["name"] == "alice"  # renewed now
    assert service_client.post("/login/logout", headers=JSON,
                               data={"csrf_token": csrf}).status_code == 200


def test_a_read_only_postgresql_refuses_writes_with_503_and_serves_reads(
        postgres: PostgresServer, run_dir, clock: FrozenClock):  # noqa: F811
    """PostgreSQL in read-only mode (``default_transaction_read_only``, as a standby is):
    its refusal (SQLSTATE 25006, an ``InternalError``, not an ``OperationalError``) is a
    503 ``database_read_only`` too, never a 500."""
    url = postgres.database()
    app = create_app({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": True, "TESTING": True,
                      "LOGIN_DATABASE_URL": url}, clock=clock)
    name = url.rsplit("/", 1)[1]
    try:
        browser = app.test_client()
        page = browser.get("/login/test/")
        assert browser.post("/login/test/", data={"username": "alice",
                            "csrf_token": csrf_from(page.text)}).status_code == 302
        csrf = csrf_from(browser.get("/login/view/sessions").text)
        before = rows(app)
        postgres.admin(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
        with app.app_context():
            current_state().store.engine.dispose()  # new connections: read-only ones
        logout = browser.post("/login/logout", headers=JSON, data={"csrf_token": csrf})
        assert logout.status_code == 503, logout.text
        assert logout.json["error"] == "database_read_only"
        assert browser.get("/login/me").json["user"]["name"] == "alice"
        assert browser.get("/login/view/sessions").status_code == 200
        assert rows(app) == before
        postgres.admin(f"ALTER DATABASE {name} SET default_transaction_read_only = off")
        with app.app_context():
            current_state().store.engine.dispose()
        assert browser.post("/login/logout", headers=JSON,
                            data={"csrf_token": csrf}).status_code == 200
    finally:
        with app.app_context():
            current_state().store.dispose()
        postgres.drop(url)


# --------------------------------------------------------------------- a full disk

def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"cannot mount a tmpfs in CI: {reason}")
    pytest.skip(f"cannot mount a tmpfs: {reason}")


@contextlib.contextmanager
def small_disk(path: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` at ``path`` until the block ends."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700",
                              "tmpfs", str(path)], capture_output=True, text=True)
    if mounted.returncode != 0:
        unavailable(mounted.stderr.strip() or f"mount exited {mounted.returncode}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def fill(disk: Path) -> Path:
    """Write a file until ``disk`` has no byte left."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as out:
        for size in (65536, 512, 1):
            with contextlib.suppress(OSError):
                while out.write(b"\0" * size):
                    pass
    return filler


def log_in(url: str, username: str) -> tuple[requests.Session, requests.Response]:
    browser = requests.Session()
    form = browser.get(f"{url}/login/test/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return browser, browser.post(f"{url}/login/test/", allow_redirects=False, headers=JSON,
                                 data={"username": username, "csrf_token": csrf})


def test_a_full_disk_refuses_writes_with_503_and_serves_reads(tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        run_dir, port = disk / "run", free_port()
        url = f"http://127.0.0.1:{port}"
        env = {"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": "1"}
        with running(python("-m", "flask_modular_login", "serve", "--debug",
                            "--port", str(port)), port, env) as service:
            alice, answer = log_in(url, "alice")
            assert answer.status_code == 302, answer.text
            csrf = alice.get(f"{url}/login/sessions").json()["csrf_token"]
            database = run_dir / "users.db"
            with sqlite3.connect(database) as conn:  # an empty WAL: every write must grow it
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            before = database.read_bytes()
            filler = fill(disk)
            _, refused = log_in(url, "bob")
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"] == "storage_full"
            logout = alice.post(f"{url}/login/logout", headers={**JSON, "X-CSRF-Token": csrf})
            assert logout.status_code == 503 and logout.json()["error"] == "storage_full"
            assert alice.get(f"{url}/login/me").json()["user"]["name"] == "alice"
            assert alice.get(f"{url}/login/view/sessions").status_code == 200
            assert alice.get(f"{url}/login/.well-known/jwks.json").status_code == 200
            assert database.read_bytes() == before, "the database file changed"
            filler.unlink()
            bob, answer = log_in(url, "bob")
            assert answer.status_code == 302, "not served again once there is room"
            assert alice.post(f"{url}/login/logout", headers={**JSON, "X-CSRF-Token": csrf},
                              ).status_code == 200
            assert service.poll() is None, "the service died"
        with sqlite3.connect(run_dir / "users.db") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            names = [name for (name,) in conn.execute("SELECT name FROM users ORDER BY name")]
            assert names == ["alice", "bob"]
