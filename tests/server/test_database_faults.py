"""Which 503 each database fault answers (:func:`server.errors.database_fault`), from the
errors SQLite really raises and PostgreSQL's SQLSTATEs; a bug stays a 500."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg.errors
import pytest
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError, ProgrammingError

from flask_modular_login.server.errors import (
    DatabaseBusy,
    DatabaseReadOnly,
    DatabaseUnavailable,
    StorageFull,
    database_fault,
)
from flask_modular_login.server.state import current_state
from flask_modular_login.store import database
from tests.conftest import csrf_from
from tests.support.faults import thread_holding_the_write_lock


def raised(action) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as caught:
        action()
    return caught.value


def wrapped(error: Exception, kind=OperationalError):
    return kind("INSERT ...", {}, error)


def test_sqlite_faults_by_result_code(tmp_path: Path):
    path = tmp_path / "faults.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    busy = raised(lambda: other.execute("BEGIN IMMEDIATE"))
    holder.execute("COMMIT")
    other.execute("PRAGMA query_only = ON")
    read_only = raised(lambda: other.execute("INSERT INTO t VALUES (1)"))
    small = sqlite3.connect(":memory:")
    small.execute("CREATE TABLE t (x)")
    small.execute("PRAGMA max_page_count = 2")
    full = raised(lambda: small.execute("INSERT INTO t VALUES (zeroblob(100000))"))
    for error, fault in ((busy, DatabaseBusy), (read_only, DatabaseReadOnly),
                         (full, StorageFull)):
        assert database_fault(wrapped(error)) is fault, error
    gone = raised(lambda: sqlite3.connect(tmp_path / "missing" / "x.db"))
    assert database_fault(wrapped(gone)) is DatabaseUnavailable
    for connection in (holder, other, small):
        connection.close()


def test_postgresql_faults_by_sqlstate():
    for error, kind, fault in (
            (psycopg.errors.LockNotAvailable("lock timeout"), OperationalError, DatabaseBusy),
            (psycopg.errors.ReadOnlySqlTransaction("read-only"), InternalError,
             DatabaseReadOnly),  # a standby, or default_transaction_read_only
            (psycopg.errors.DiskFull("no space"), OperationalError, StorageFull),
            (psycopg.errors.AdminShutdown("bye"), OperationalError, DatabaseUnavailable)):
        assert database_fault(wrapped(error, kind)) is fault, error


def test_a_bug_is_no_fault():
    assert database_fault(wrapped(sqlite3.IntegrityError("UNIQUE"), IntegrityError)) is None
    assert database_fault(wrapped(psycopg.errors.UndefinedTable("x"), ProgrammingError)) is None
    assert database_fault(ValueError("x")) is None


def test_a_writer_of_the_same_process_holding_the_queue_answers_503(service, monkeypatch):
    monkeypatch.setattr(database, "LOCK_TIMEOUT_MS", 200)
    client = service.test_client()
    form = client.get("/login/test/")
    with service.app_context():
        store = current_state().store
    with thread_holding_the_write_lock(store):
        refused = client.post("/login/test/", headers={"Accept": "application/json"},
                              data={"username": "bob", "csrf_token": csrf_from(form.text)})
    assert refused.status_code == 503, refused.text
    assert refused.json["error"] == "database_busy"
    assert isinstance(database.WriteLockTimeout(), OperationalError)
