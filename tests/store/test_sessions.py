"""The store: identities, sessions, revocations cursor, and concurrent writers."""

from __future__ import annotations

import threading

from flask_modular_login.store import open_store

NOW = 1_800_000_000


def test_database_file_is_private_and_in_wal_mode(tmp_path, store):
    assert (tmp_path / "users.db").stat().st_mode & 0o777 == 0o600
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_identity_maps_to_one_stable_user_and_refreshes_the_profile(store):
    first = store.accounts.login("github", "42", "Al", None, NOW)
    again = store.accounts.login("github", "42", "Alice", "https://p/x.png", NOW + 1)
    other = store.accounts.login("google", "42", "Al", None, NOW)
    assert first.id == again.id != other.id
    assert store.accounts.get(first.id).name == "Alice"


def test_revocations_are_appended_once_with_increasing_cursor(store):
    user = store.accounts.login("test", "a", "a", None, NOW)
    ids = [store.sessions.create(user.id, "test", NOW, 100) for _ in range(3)]
    assert store.sessions.revoke(ids[0], "logout", NOW)
    assert not store.sessions.revoke(ids[0], "logout", NOW), "already revoked"
    assert store.sessions.revoke_user(user.id, "removed", NOW, keep=ids[2]) == 1
    rows = store.sessions.revocations_after(0)
    assert [r.session_id for r in rows] == ids[:2]
    assert rows[0].cursor < rows[1].cursor
    assert store.sessions.revocations_after(rows[0].cursor) == rows[1:]


def test_startup_load_skips_revocations_older_than_a_lease(store):
    user = store.accounts.login("test", "a", "a", None, NOW)
    old, new = (store.sessions.create(user.id, "test", NOW, 10**6) for _ in range(2))
    store.sessions.revoke(old, "x", NOW)
    store.sessions.revoke(new, "x", NOW + 1000)
    cursor, rows = store.sessions.revocations_since(NOW + 500)
    assert [r.session_id for r in rows] == [new] and cursor == 2


def test_concurrent_first_logins_of_one_identity_make_one_user(tmp_path):
    url = f"sqlite:///{tmp_path / 'users.db'}"
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


def test_migrations_from_several_processes_at_once_are_safe(tmp_path):
    url = f"sqlite:///{tmp_path / 'users.db'}"
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
