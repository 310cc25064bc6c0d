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
