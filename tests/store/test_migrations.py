"""The schema changes only through migrations: they build exactly what tables.py declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from flask_modular_login.store import open_store
from flask_modular_login.store.tables import metadata


def test_migrations_match_the_declared_tables(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'users.db'}", migrate=True)
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    store.dispose()
    assert differences == []


def test_downgrade_to_base_and_up_again(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'users.db'}", migrate=True)
    store.downgrade("base")
    assert set(inspect(store.engine).get_table_names()) == {"alembic_version"}
    store.migrate()
    assert "sessions" in inspect(store.engine).get_table_names()
    store.dispose()


def test_leases_end_is_filled_in_safely_for_rows_from_before_it(tmp_path):
    """Sessions and revocations written before leases_end existed get a bound no lease
    outlives: the session's end (or, with the session gone, the default session life)."""
    store = open_store(f"sqlite:///{tmp_path / 'users.db'}")
    store.migrate("0003")
    with store.write() as conn:
        conn.exec_driver_sql("INSERT INTO users VALUES ('u', 'U', NULL, 1)")
        for sid, handle, expires_at in [("live", "h1", 5000), ("ended", "h2", 9000)]:
            conn.exec_driver_sql(
                "INSERT INTO sessions (id, handle, user_id, provider, auth_time, lease_start,"
                f" expires_at, revoked_at) VALUES ('{sid}', '{handle}', 'u', 'test', 1, 1,"
                f" {expires_at}, NULL)")
        conn.exec_driver_sql("INSERT INTO revocations (session_id, reason, created_at) "
                             "VALUES ('ended', 'x', 100), ('gone', 'x', 200)")
    store.migrate()
    assert [(r.session_id, r.leases_end) for r in store.events.after(0)] == [
        ("ended", 9000), ("gone", 200 + 30 * 24 * 3600)]
    store.sessions.revoke("live", "x", 300)
    assert store.events.after(2)[0].leases_end == 5000
    store.downgrade("0003")
    assert "leases_end" not in {c["name"] for c in inspect(store.engine).get_columns("sessions")}
    store.migrate()
    store.dispose()


def test_revocations_and_access_events_merge_into_one_log_in_time_order(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'users.db'}")
    store.migrate("0004")
    with store.write() as conn:
        conn.exec_driver_sql("INSERT INTO revocations (session_id, reason, created_at, leases_end)"
                             " VALUES ('s1', 'x', 100, 900), ('s2', 'x', 300, 950)")
        conn.exec_driver_sql("INSERT INTO access_events (user_id, group_path, kind, created_at)"
                             " VALUES ('u', 'chat', 'added', 200), ('u', 'chat', 'removed', 300)")
    store.migrate()
    assert [(e.cursor, e.kind, e.session_id or e.group) for e in store.events.after(0)] == [
        (1, "revoked", "s1"), (2, "added", "chat"), (3, "revoked", "s2"), (4, "removed", "chat")]
    store.downgrade("0004")
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM revocations").scalar() == 2
        assert conn.exec_driver_sql("SELECT count(*) FROM access_events").scalar() == 2
    store.dispose()
