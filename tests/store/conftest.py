"""A fresh, migrated SQLite store per test."""

from __future__ import annotations

import pytest

from flask_modular_login.store import open_store


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'users.db'}"


@pytest.fixture
def store(url):
    store = open_store(url, migrate=True)
    yield store
    store.dispose()
