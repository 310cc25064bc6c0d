"""The use cases run on SQLite and on a real PostgreSQL (ids ``sqlite``, ``postgresql``):
``database_url`` is None for the run dir's SQLite file, else a fresh migrated database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresServer, postgres  # noqa: F401 (the fixture)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.database()
    yield url
    server.drop(url)
