"""NOTIFY with every appended event, delivered exactly when its transaction commits."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import make_url

from flask_modular_login.store import open_store
from flask_modular_login.store.events import append
from flask_modular_login.store.notify import CHANNEL, listen_dsn

NOW = 1_800_000_000


def test_the_listening_dsn_is_libpq_s_with_the_password_kept():
    url = make_url("postgresql+psycopg://login:p%40ss@db.example.org:6432/users?sslmode=require")
    assert listen_dsn(url) == "postgresql://login:p%40ss@db.example.org:6432/users?sslmode=require"


def received(conn: psycopg.Connection) -> int:
    """How many notifications ``conn`` has (waiting up to 0.3 s for the first)."""
    return sum(1 for _ in conn.notifies(timeout=0.3))


def test_one_notification_per_committed_write_and_none_for_a_rollback(postgres_url):
    store = open_store(postgres_url)
    with psycopg.connect(listen_dsn(store.engine.url), autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        with store.write() as conn:
            append(conn, "added", NOW, user_id="u", group_path="chat")
            append(conn, "removed", NOW, user_id="u", group_path="chat")
            assert received(listener) == 0, "delivered before the commit"
        assert received(listener) == 1, "one per transaction, however many events"
        with pytest.raises(RuntimeError), store.write() as conn:
            append(conn, "added", NOW, user_id="u", group_path="chat")
            raise RuntimeError("rolled back")
        assert received(listener) == 0
        store.sessions.revoke_user(store.accounts.login("test", "a", "A", None, NOW).id,
                                   "logout", NOW)  # no session: no event, no notification
        assert received(listener) == 0
    store.dispose()


def test_sqlite_writes_send_nothing_and_need_nothing(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'users.db'}", migrate=True)
    with store.write() as conn:
        append(conn, "added", NOW, user_id="u", group_path="chat")
    assert [e.kind for e in store.events.after(0)] == ["added"]
    store.dispose()
