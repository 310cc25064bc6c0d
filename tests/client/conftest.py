"""Client-side fixtures."""

from __future__ import annotations

import pytest
from sqlalchemy import event


@pytest.fixture
def queries(interface) -> list[str]:
    """Statements the interface's store runs, as a list that grows (to assert "no I/O")."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(interface.store.engine, "before_cursor_execute", record)
    yield seen
    event.remove(interface.store.engine, "before_cursor_execute", record)
