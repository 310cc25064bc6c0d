"""The schema changes only through migrations: they build exactly what tables.py declares,
on SQLite and on PostgreSQL (every test runs on both: see conftest.py)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from flask_modular_login.store import open_store
from flask_modular_login.store.tables import metadata


def test_migrations_match_the_declared_tables(empty_url):
    store = open_store(empty_url, migrate=True)
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    store.dispose()
    assert differences == []


def test_downgrade_to_base_and_up_again(empty_url):
    store = open_store(empty_url, migrate=True)
    store.downgrade("base")
    assert set(inspect(store.engine).get_table_names()) == {"alembic_version"}
    store.migrate()
    assert "sessions" in inspect(store.engine).get_table_names()
    store.dispose()


def test_leases_end_is_filled_in_safely_for_rows_from_before_it(empty_url):
    """Sessions and revocations written before leases_end existed get a bound no lease
    outlives: the session's end (or, with the session gone, the default session life)."""
    store = open_store(empty_url)
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


def test_revocations_and_access_events_merge_into_one_log_in_time_order(empty_url):
    store = open_store(empty_url)
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


def test_the_db_commands_migrate_an_empty_database(empty_url, tmp_path, monkeypatch):
    """``flask-modular-login db upgrade`` / ``db current`` on either database."""
    from click.testing import CliRunner

    from flask_modular_login.cli import main

    monkeypatch.setenv("LOGIN_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("LOGIN_DATABASE_URL", empty_url)
    runner = CliRunner()
    before = runner.invoke(main, ["--json", "db", "current"])
    assert before.exit_code == 0, before.output
    assert '"current": null' in before.output
    upgraded = runner.invoke(main, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "database at revision" in upgraded.output
    assert '"up_to_date": true' in runner.invoke(main, ["--json", "db", "current"]).output
    store = open_store(empty_url)
    assert "audit" in inspect(store.engine).get_table_names()
    store.dispose()
