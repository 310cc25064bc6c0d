"""The store: identities, sessions, the event log and its cursor, and concurrent writers."""

from __future__ import annotations

import threading

import pytest

from flask_modular_login.core.errors import SessionEnded
from flask_modular_login.store import open_store

NOW = 1_800_000_000


def test_database_file_is_private_and_in_wal_mode(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'users.db'}", migrate=True)
    assert (tmp_path / "users.db").stat().st_mode & 0o777 == 0o600
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.dispose()


def test_identity_maps_to_one_stable_user_and_refreshes_the_profile(store):
    first = store.accounts.login("github", "42", "Al", None, NOW)
    again = store.accounts.login("github", "42", "Alice", "https://p/x.png", NOW + 1)
    other = store.accounts.login("google", "42", "Al", None, NOW)
    assert first.id == again.id != other.id
    assert store.accounts.get(first.id).name == "Alice"


def test_revocations_are_appended_once_with_increasing_cursor(store):
    user = store.accounts.login("test", "a", "a", None, NOW)
    ids = [store.sessions.create(user.id, "test", NOW, 100, 10).session_id for _ in range(3)]
    assert store.sessions.revoke(ids[0], "logout", NOW)
    assert not store.sessions.revoke(ids[0], "logout", NOW), "already revoked"
    assert store.sessions.revoke_user(user.id, "removed", NOW, keep=ids[2]) == 1
    rows = store.events.after(0)
    assert [(r.kind, r.session_id) for r in rows] == [("revoked", i) for i in ids[:2]]
    assert rows[0].cursor < rows[1].cursor
    assert store.events.after(rows[0].cursor) == rows[1:]


def test_a_revocation_carries_when_the_last_lease_of_its_session_ends(store):
    """Leases issued with different lease settings: the revocation keeps the latest end."""
    user = store.accounts.login("test", "a", "a", None, NOW)
    first = store.sessions.create(user.id, "test", NOW, 10**6, 60)
    assert first.expires_at == NOW + 60
    long = store.sessions.renew(first, NOW + 100, 3600)
    short = store.sessions.renew(long, NOW + 200, 60)
    assert (long.expires_at, short.expires_at) == (NOW + 3700, NOW + 260)
    store.sessions.revoke(first.session_id, "logout", NOW + 300)
    [row] = store.events.after(0)
    assert (row.created_at, row.leases_end) == (NOW + 300, NOW + 3700)
    with pytest.raises(SessionEnded):
        store.sessions.renew(short, NOW + 400, 60)


def test_startup_load_is_every_revocation_whose_leases_may_still_be_live(store):
    user = store.accounts.login("test", "a", "a", None, NOW)
    ended, live = (store.sessions.create(user.id, "test", NOW, 10**6, seconds).session_id
                   for seconds in (100, 5000))
    store.sessions.revoke(ended, "x", NOW)
    store.sessions.revoke(live, "x", NOW)
    cursor, rows = store.events.live_revocations(NOW + 1000)
    assert [r.session_id for r in rows] == [live] and cursor == 2
    assert store.events.live_revocations(NOW + 5000) == (2, [])


def test_the_log_holds_sessions_and_memberships_under_one_cursor(store):
    from flask_modular_login.core.groups import GroupPath

    user = store.accounts.login("test", "a", "a", None, NOW)
    session = store.sessions.create(user.id, "test", NOW, 10**6, 60).session_id
    store.access.add_member(GroupPath("chat"), user.id, NOW)
    store.sessions.revoke(session, "logout", NOW + 1)
    store.access.remove_member(GroupPath("chat"), user.id, NOW + 2)
    events = store.events.after(0)
    assert [e.kind for e in events] == ["added", "revoked", "removed"]
    assert [e.cursor for e in events] == [1, 2, 3] and store.events.cursor() == 3


def test_purge_keeps_live_revocations_recent_changes_and_the_cursor(store):
    from flask_modular_login.core.groups import GroupPath

    user = store.accounts.login("test", "a", "a", None, NOW)
    short, long = (store.sessions.create(user.id, "test", NOW, 10**6, s).session_id
                   for s in (60, 5000))
    store.access.add_member(GroupPath("old"), user.id, NOW)
    store.sessions.revoke(short, "x", NOW)
    store.sessions.revoke(long, "x", NOW)
    store.access.add_member(GroupPath("new"), user.id, NOW + 900)
    assert store.events.purge(NOW + 1000, keep_seconds=500) == 2
    assert [(e.kind, e.session_id or e.group) for e in store.events.after(0)] == [
        ("revoked", long), ("added", "new")]
    assert store.events.purge(NOW + 10**6, keep_seconds=500) == 1
    assert store.events.cursor() == 4, "the newest event stays: the cursor never goes back"


def test_no_session_starts_for_a_removed_user(store):
    user = store.accounts.login("test", "a", "a", None, NOW)
    store.accounts.delete(user.id)
    with pytest.raises(SessionEnded):
        store.sessions.create(user.id, "test", NOW, 100, 10)
    assert store.sessions.active(user.id, NOW) == []


def test_concurrent_first_logins_of_one_identity_make_one_user(url):
    open_store(url, migrate=True).dispose()
    results, errors = [], []

    def login():
        store = open_store(url)
        try:
            results.append(store.accounts.login("test", "same", "x", None, NOW).id)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            store.dispose()

    threads = [threading.Thread(target=login) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(results)) == 1


def test_migrations_from_several_processes_at_once_are_safe(empty_url):
    url = empty_url
    errors = []

    def migrate():
        try:
            open_store(url, migrate=True).dispose()
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
