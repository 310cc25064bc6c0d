"""One writer at a time, on SQLite and PostgreSQL: what the write lock promises, tested with
real concurrent connections (see store/database.py)."""

from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import text

from flask_modular_login.core.groups import GroupPath
from flask_modular_login.store import open_store
from flask_modular_login.store.database import WRITE_LOCK
from flask_modular_login.store.events import append

NOW = 1_800_000_000


def run_all(*targets, count: int = 1) -> list[BaseException]:
    """Run each target ``count`` times in its own thread, all at once; the errors raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets) * count)

    def run(target):
        barrier.wait()
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - collected and asserted by the caller
            errors.append(error)

    threads = [threading.Thread(target=run, args=(t,)) for t in targets for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a writer never finished"
    return errors


def test_a_second_writer_waits_until_the_first_commits(url, store):
    other = open_store(url)
    order: list[str] = []
    inside = threading.Event()

    def second():
        inside.wait(10)
        with other.write():
            order.append("second in")

    thread = threading.Thread(target=second)
    thread.start()
    with store.write() as conn:
        inside.set()
        time.sleep(0.3)  # the second writer is asking for the lock meanwhile
        order.append("first commits")
        conn.execute(text("SELECT 1"))
    thread.join(10)
    other.dispose()
    assert order == ["first commits", "second in"]


def test_reads_do_not_wait_for_a_writer(url, store):
    other = open_store(url)
    with store.write() as conn:
        append(conn, "added", NOW, user_id="u", group_path="chat")
        started = time.monotonic()
        assert other.events.cursor() == 0  # not committed yet: not seen, and no wait
        assert time.monotonic() - started < 1
    assert other.events.cursor() == 1
    other.dispose()


def test_postgresql_writers_hold_the_advisory_write_lock(postgres_url):
    """SQLite's writer lock is BEGIN IMMEDIATE; PostgreSQL's the advisory lock."""
    store = open_store(postgres_url)
    with store.write() as conn:
        held = conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = :key"),
            {"key": WRITE_LOCK}).scalar()
    assert held == 1
    with store.read() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid()")).scalar() == 0
    store.dispose()


def test_a_follower_of_the_log_never_skips_an_event(url, store):
    """Events appended by concurrent writers become visible in cursor order: a follower
    reading "everything after my cursor" while they commit misses none (on PostgreSQL
    only because writers are serialized: ids would otherwise commit out of order)."""
    writers, each = 4, 15
    done = threading.Event()
    seen: list[int] = []

    def write():
        own = open_store(url)
        try:
            for _ in range(each):
                with own.write() as conn:
                    append(conn, "added", NOW, user_id="u", group_path="chat")
                    time.sleep(random.uniform(0, 0.004))  # work after the id was taken
        finally:
            own.dispose()

    def follow():
        cursor = 0
        while not done.is_set() or cursor < writers * each:
            for event in store.events.after(cursor):
                seen.append(event.cursor)
                cursor = event.cursor
            time.sleep(0.001)

    follower = threading.Thread(target=follow)
    follower.start()
    errors = run_all(write, count=writers)
    done.set()
    follower.join(30)
    assert not errors
    assert seen == [e.cursor for e in store.events.after(0)]
    assert len(seen) == writers * each


def test_concurrent_mixed_writers_never_deadlock(url, store):
    """Logins, links, group claims, memberships and revocations at once, each writer on its
    own connection: all finish, none fails (no deadlock, no serialization error)."""
    users = [store.accounts.login("test", f"u{i}", f"U{i}", None, NOW).id for i in range(4)]

    def writer(n):
        def run():
            own = open_store(url)
            try:
                for i in range(6):
                    user = users[(n + i) % len(users)]
                    lease = own.sessions.create(user, "test", NOW, 3600, 600)
                    own.access.ensure_group(GroupPath(f"g{i % 2}") / f"s{n}", NOW,
                                            owner=("test", f"u{n}"))
                    own.access.add_member(GroupPath(f"g{i % 2}"), user, NOW)
                    own.accounts.link(user, "other", f"{n}-{i}", NOW)
                    own.sessions.revoke(lease.session_id, "logout", NOW)
                    own.access.remove_member(GroupPath(f"g{i % 2}"), user, NOW)
            finally:
                own.dispose()
        return run

    assert run_all(*[writer(n) for n in range(4)]) == []
    assert len(store.accounts.identities_of(users[0])) > 1


def test_a_failed_write_leaves_nothing_and_releases_the_lock(url, store):
    for _ in range(3):
        with pytest.raises(ZeroDivisionError), store.write() as conn:
            append(conn, "added", NOW, user_id="u", group_path="chat")
            1 / 0  # noqa: B018 - fails the transaction half-way
    assert store.events.cursor() == 0
    with store.write() as conn:  # not blocked by a leftover lock
        append(conn, "added", NOW, user_id="u", group_path="chat")
    assert len(store.events.after(0)) == 1


def test_a_postgresql_writer_gives_up_after_the_lock_timeout(postgres_url, monkeypatch):
    """Like SQLite's busy timeout: a writer that cannot get the lock in time fails with
    OperationalError (the service answers 503) and writes nothing."""
    from sqlalchemy.exc import OperationalError

    from flask_modular_login.store import database

    monkeypatch.setattr(database, "LOCK_TIMEOUT_MS", 200)
    holder, waiter = open_store(postgres_url), open_store(postgres_url)
    with holder.write():
        started = time.monotonic()
        with pytest.raises(OperationalError), waiter.write() as conn:
            append(conn, "added", NOW, user_id="u", group_path="chat")
        assert 0.15 < time.monotonic() - started < 5
    assert waiter.events.cursor() == 0
    with waiter.write() as conn:  # the lock is free again
        append(conn, "added", NOW, user_id="u", group_path="chat")
    holder.dispose()
    waiter.dispose()


def test_postgresql_connection_defaults_yield_to_the_url():
    from sqlalchemy import make_url

    from flask_modular_login.store.database import LOCK_TIMEOUT_MS, _postgresql_options

    options = _postgresql_options(make_url("postgresql+psycopg://u@h/d?connect_timeout=3"))
    assert options["connect_args"] == {"application_name": "flask-modular-login",
                                       "options": f"-c lock_timeout={LOCK_TIMEOUT_MS}"}
    assert options["pool_pre_ping"] is True
    default = _postgresql_options(make_url("postgresql+psycopg://u@h/d"))["connect_args"]
    assert default["connect_timeout"] == 10
