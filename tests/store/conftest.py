"""A fresh, migrated store per test, on SQLite and on a real PostgreSQL (ids ``sqlite``,
``postgresql``): every store test runs on both."""

from __future__ import annotations

import pytest

from flask_modular_login.store import open_store
from tests.support.postgres import PostgresServer, postgres, postgres_url  # noqa: F401

DATABASES = ["sqlite", "postgresql"]


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    """Which database the test runs on."""
    return request.param


@pytest.fixture
def url(database: str, tmp_path, request: pytest.FixtureRequest):
    """The URL of a fresh, migrated database (SQLite: the file need not exist yet)."""
    if database == "sqlite":
        yield f"sqlite:///{tmp_path / 'users.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.database()
    yield url
    server.drop(url)


@pytest.fixture
def empty_url(database: str, tmp_path, request: pytest.FixtureRequest):
    """The URL of a fresh database without any table (for the migration tests)."""
    if database == "sqlite":
        yield f"sqlite:///{tmp_path / 'users.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.database(migrated=False)
    yield url
    server.drop(url)


@pytest.fixture
def store(url):
    store = open_store(url, migrate=True)
    yield store
    store.dispose()
