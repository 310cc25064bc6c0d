"""The audit table: written inside the change's transaction, listed for operators, migrated."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from flask_modular_login.core.groups import GroupPath
from flask_modular_login.store import open_store
from flask_modular_login.store.audit import AuditEntry, record

CHAT = GroupPath("chat")


def test_list_is_newest_first_and_filters_by_user_and_since(store):
    for now, who, kind in [(100, "u1", "login"), (200, "u2", "login"), (300, "u1", "logout"),
                           (300, "u1", "login")]:
        with store.write() as conn:
            record(conn, AuditEntry(kind, who, who, {"provider": "test"}, "10.0.0.1"), now)
    everyone = store.audit.list()
    assert [(r.created_at, r.user_id, r.kind) for r in everyone] == [
        (300, "u1", "login"), (300, "u1", "logout"), (200, "u2", "login"), (100, "u1", "login")]
    assert [r.created_at for r in store.audit.list(user_id="u1")] == [300, 300, 100]
    assert [r.user_id for r in store.audit.list(since=200)] == ["u1", "u1", "u2"]
    assert [r.kind for r in store.audit.list(user_id="u1", since=150, limit=1)] == ["login"]
    assert store.audit.list(user_id="nobody") == []
    first = everyone[-1]
    assert (first.actor_id, first.detail, first.ip) == ("u1", {"provider": "test"}, "10.0.0.1")


def test_a_failed_change_writes_no_audit_row_and_a_bad_row_fails_the_change(store):
    with pytest.raises(ValueError, match="secret"):
        store.access.add_member(CHAT, "u1", 100,
                                audit=AuditEntry("member_added", "u1", detail={"code": "x"}))
    assert store.access.membership("u1", CHAT) is None, "the change rolled back with it"
    assert store.events.after(0) == []
    with pytest.raises(ValueError), store.write() as conn:
        record(conn, AuditEntry("member_added", None), 100)
    assert not store.access.remove_member(CHAT, "u1", 100,
                                          audit=AuditEntry("member_removed", "u1"))
    assert store.audit.list() == [], "nothing removed, nothing audited"


def test_session_rows_name_handles_never_session_ids(store):
    user = store.accounts.login("test", "alice", "Alice", None, 100)
    lease = store.sessions.create(user.id, "test", 100, 3600, 900,
                                  audit=AuditEntry("login", user.id, user.id))
    handle = store.sessions.handle(lease.session_id)
    ended = store.sessions.end("logout", 200, session_id=lease.session_id,
                               audit=AuditEntry("logout", user.id, user.id))
    assert [e.handle for e in ended] == [handle]
    assert [r.detail for r in store.audit.list()] == [
        {"handles": [handle], "reason": "logout"}, {"handle": handle}]
    assert store.sessions.end("logout", 300, session_id=lease.session_id,
                              audit=AuditEntry("logout", user.id)) == []
    assert len(store.audit.list()) == 2
    with pytest.raises(ValueError):
        store.sessions.end("x", 300)


def test_migration_0007_up_and_down(url):
    store = open_store(url, migrate=True)
    with store.write() as conn:
        record(conn, AuditEntry("login", "u1"), 100)
    store.downgrade("0006")
    assert "audit" not in inspect(store.engine).get_table_names()
    assert "events" in inspect(store.engine).get_table_names()
    store.migrate()
    assert "audit" in inspect(store.engine).get_table_names()
    assert store.audit.list() == []
    store.dispose()
