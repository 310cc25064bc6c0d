"""SQLite's write lock held by another process: the login service waits for it at most
its bound (SQLite's busy timeout, :data:`~flask_modular_login.store.database.LOCK_TIMEOUT_MS`),
then answers 503 ``database_busy`` with ``Retry-After``, never a 500, and writes
nothing. Shorter contention is waited out and the request succeeds; reads never wait
(WAL). Concurrent writers inside the service queue on ``BEGIN IMMEDIATE`` and all succeed.

The lock holder is a real second process (``BEGIN IMMEDIATE`` on the same file, as
another service worker or an operator's ``sqlite3`` shell would take it); the bound is
shortened for the test so that it runs in a second.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import flask
import pytest
from sqlalchemy import func, select

from flask_modular_login import create_app
from flask_modular_login.server.state import current_state
from flask_modular_login.store import database, open_store
from flask_modular_login.store.tables import audit, sessions
from tests.conftest import FrozenClock, csrf_from
from tests.support.faults import thread_holding_the_write_lock

BOUND_MS = 400
CONTENDED_BOUND_MS = 600
JSON = {"Accept": "application/json"}

HOLDER = r"""
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
hold = float(sys.argv[2])
if hold < 0:
    sys.stdin.readline()  # until the test says so
else:
    time.sleep(hold)
conn.execute("COMMIT")
print("released", flush=True)
"""


@contextmanager
def write_lock_held(path: Path, seconds: float = -1) -> Iterator[subprocess.Popen[str]]:
    """Another process holds SQLite's write lock on ``path``: ``seconds`` long, or (-1)
    until the block ends."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        if holder.poll() is None and seconds < 0:
            assert holder.stdin is not None
            holder.stdin.write("\n")
            holder.stdin.flush()
        holder.wait(10)
        for stream in (holder.stdin, holder.stdout):
            if stream:
                stream.close()


@pytest.fixture
def service(run_dir: Path, clock: FrozenClock, monkeypatch) -> flask.Flask:
    """The login service with a short lock bound (read when a connection opens)."""
    monkeypatch.setattr(database, "LOCK_TIMEOUT_MS", BOUND_MS)
    return create_app({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": True, "TESTING": True},
                      clock=clock)


def rows(app: flask.Flask) -> tuple[int, int]:
    """(sessions, audit entries)."""
    with app.app_context(), current_state().store.read() as conn:
        return (conn.execute(select(func.count()).select_from(sessions)).scalar_one(),
                conn.execute(select(func.count()).select_from(audit)).scalar_one())


def log_in(client, username: str, headers: dict[str, str] | None = None):
    page = client.get("/login/test/")
    return client.post("/login/test/", headers=headers or {},
                       data={"username": username, "csrf_token": csrf_from(page.text)})


def test_a_lock_held_past_the_bound_answers_503_database_busy_and_reads_go_on(
        service, service_client, login, run_dir, caplog):
    login("alice")
    before = rows(service)
    with write_lock_held(run_dir / "users.db"):
        start = time.monotonic()
        refused = log_in(service.test_client(), "bob", JSON)
        waited = time.monotonic() - start
        assert refused.status_code == 503, refused.text
        assert refused.json["error"] == "database_busy"
        assert refused.headers["Retry-After"] == "2"
        assert BOUND_MS / 1000 * 0.8 <= waited < BOUND_MS / 1000 + 2, waited
        page = log_in(service.test_client(), "carol", {"Accept": "text/html"})
        assert page.status_code == 503
        assert "database is busy" in page.text
        me = service_client.get("/login/me")  # a valid lease: a read, never waits
        assert me.status_code == 200 and me.json["user"]["name"] == "alice"
        assert service_client.get("/login/view/sessions").status_code == 200
        assert rows(service) == before, "half a login was written"
    assert "database_busy (SQLITE_BUSY)" in caplog.text
    assert log_in(service.test_client(), "bob").status_code == 302, "not served after"
    assert rows(service)[0] == before[0] + 1


def test_shorter_contention_is_waited_out(service, service_client, run_dir):
    log_in(service.test_client(), "warmup")  # the schema exists, connections are open
    with write_lock_held(run_dir / "users.db", seconds=BOUND_MS / 1000 / 3):
        start = time.monotonic()
        answer = log_in(service_client, "patient")
        waited = time.monotonic() - start
    assert answer.status_code == 302, answer.text
    assert waited >= BOUND_MS / 1000 / 6, f"it did not wait for the lock ({waited:.3f} s)"


def test_concurrent_writers_queue_and_all_succeed(service, run_dir, monkeypatch):
    """Eight threads of the service write while another process takes the lock briefly,
    again and again: each thread waits its turn, none starves past the bound."""
    monkeypatch.setattr(database, "LOCK_TIMEOUT_MS", CONTENDED_BOUND_MS)
    service.extensions["flask_modular_login"].store.engine.dispose()  # connections: the bound
    log_in(service.test_client(), "warmup")
    statuses: list[int] = []
    lock = threading.Lock()
    done = threading.Event()

    def writer(number: int) -> None:
        client = service.test_client()
        for attempt in range(5):
            answer = log_in(client, f"writer{number}-{attempt}")
            with lock:
                statuses.append(answer.status_code)

    def other_process() -> None:  # takes the lock briefly, again and again
        while not done.is_set():
            with write_lock_held(run_dir / "users.db", seconds=0.05):
                pass

    contender = threading.Thread(target=other_process)
    contender.start()
    try:
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        done.set()
        contender.join(30)
    assert statuses == [302] * 40, statuses
    assert rows(service)[0] == 41


def test_a_forked_process_gets_a_write_queue_of_its_own(tmp_path, monkeypatch):
    """A process forked while another thread writes (uwsgi without ``lazy-apps``) must not
    inherit that writer's hold on the queue: its writes reach the database (which may
    still answer busy: the parent's transaction is another process's now)."""
    monkeypatch.setattr(database, "LOCK_TIMEOUT_MS", BOUND_MS)
    store = open_store(f"sqlite:///{tmp_path / 'users.db'}", migrate=True)
    with thread_holding_the_write_lock(store):
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports by its exit status
            code = 1
            store.engine.dispose(close=False)  # the parent's connections stay the parent's
            try:
                with store.write() as conn:  # the database's lock: another process's now
                    conn.exec_driver_sql("SELECT 1")
            except database.WriteLockTimeout:
                code = 2  # the inherited queue was held: the bug
            except Exception:  # noqa: BLE001 - the database's own busy answer
                code = 0
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.WEXITSTATUS(status) == 0, "the child inherited a held write queue"
    store.dispose()
