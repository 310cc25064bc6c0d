"""The login service killed with SIGKILL while 200 people redeem invites at once.

200 people are logged in to a real service process (on SQLite, then on PostgreSQL). olivia, who owns
``chat`` and ``club``, made two invites: ``plenty`` to chat (enough uses for all) and
``scarce`` to club (fewer uses than people). Every person posts to both at once (400
concurrent JSON POSTs), and the service is SIGKILLed once part of the answers came
back. Then the database file holds no trace of a half-done redemption:

* SQLite: ``PRAGMA integrity_check`` is ``ok`` and ``foreign_key_check`` finds nothing;
  PostgreSQL: amcheck finds every B-tree index sound and matching its table
  (``bt_index_check(index, heapallindexed => true)``);
* no invite counts more uses than it allows, and its ``uses`` equals its redemption rows;
* a redemption row, a membership made by that invite, a ``joined`` event and an
  ``invite_redeemed`` audit entry exist together or not at all, for every
  (invite, person): they are written in one transaction (store/access.py ``_redeem``);
* every redemption answered 200 before the kill is there (a commit is durable).

The service then starts again on the same file, everyone tries again, and the
invites end exactly full: ``plenty`` with 200 members, ``scarce`` with its uses.
A 503 ``database_busy`` (a burst queued past the write bound, seen on PostgreSQL) is
tried again after its ``Retry-After``; any other answer but 200 or 409 fails the test.
``LOGIN_FAULT_PEOPLE`` makes the crowd smaller (CI on a slow machine).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import Connection, text

from flask_modular_login.core.groups import GroupPath
from flask_modular_login.store import open_store
from flask_modular_login.store.access import code_id
from tests.support.faults import (
    log_in,
    log_in_all,
    running_logged,
    serve_args,
    service_env,
)
from tests.support.postgres import PostgresServer, postgres  # noqa: F401
from tests.support.servers import free_port

PEOPLE = int(os.environ.get("LOGIN_FAULT_PEOPLE", "200"))
SCARCE = PEOPLE // 4
KILL_AFTER = PEOPLE // 2  # answers received before the kill
GROUPS = {"plenty": "chat", "scarce": "club"}
BUSY_TRIES = 5


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """The service's database: a SQLite file in its run directory, or a PostgreSQL one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'run' / 'users.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.database()
    yield url
    server.drop(url)


def create_invite(olivia: requests.Session, url: str, group: str, accepts: int) -> str:
    answer = olivia.post(f"{url}/login/access/invite", timeout=30,
                         json={"group": group, "accepts": accepts})
    assert answer.status_code == 201, answer.text
    return answer.json()["code"]


def redeem(browser: requests.Session, url: str, code: str) -> int | None:
    """The answer's status, or None when the service died before answering. A 503
    ``database_busy`` (a burst queued past the write bound) is tried again after its
    ``Retry-After``, as a well-behaved client does; any other 503 is returned."""
    for _ in range(BUSY_TRIES):
        try:
            answer = browser.post(f"{url}/login/access/accept/{code}", json={}, timeout=60,
                                  allow_redirects=False)
        except requests.RequestException:
            return None
        if answer.status_code != 503 or answer.json()["error"] != "database_busy":
            return answer.status_code
        time.sleep(int(answer.headers["Retry-After"]))
    return 503


def redeem_all(browsers: dict[str, requests.Session], url: str, codes: dict[str, str],
               on_answer: Callable[[], None] = lambda: None,
               ) -> dict[tuple[str, str], int | None]:
    """Everyone posts to every invite at once: {(invite name, person): status}."""
    jobs = [(invite, name) for name in browsers for invite in codes]

    def one(job: tuple[str, str]) -> int | None:
        status = redeem(browsers[job[1]], url, codes[job[0]])
        if status is not None:
            on_answer()
        return status

    with ThreadPoolExecutor(len(jobs)) as pool:
        return dict(zip(jobs, pool.map(one, jobs), strict=True))


def sound(conn: Connection) -> None:
    """The database's own consistency checks."""
    if conn.dialect.name == "sqlite":
        assert conn.exec_driver_sql("PRAGMA integrity_check").all() == [("ok",)]
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        return
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
    indexes = conn.execute(text(
        "SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_am am ON am.oid = c.relam WHERE am.amname = 'btree' "
        "AND c.relnamespace = 'public'::regnamespace")).all()
    assert len(indexes) >= 10, indexes
    for oid, _name in indexes:  # raises on a damaged index or a row it lacks
        conn.execute(text("SELECT bt_index_check(:oid, true)"), {"oid": oid})


def consistent(database_url: str, codes: dict[str, str]) -> dict[str, set[str]]:
    """Check the invariants of the module docstring; the user ids each invite admitted."""
    store = open_store(database_url)
    try:
        with store.engine.connect() as conn:
            sound(conn)
            return {name: consistent_invite(conn, name, code_id(code))
                    for name, code in codes.items()}
    finally:
        store.dispose()


def consistent_invite(conn: Connection, name: str, invite_id: str) -> set[str]:
    def users(sql: str, **values: object) -> list[str]:
        return [row[0] for row in conn.execute(text(sql), {"invite": invite_id, **values})]

    uses, accepts, group = conn.execute(text(
        "SELECT uses, accepts, group_path FROM invites WHERE id = :invite"),
        {"invite": invite_id}).one()
    redeemed = set(users("SELECT user_id FROM redemptions WHERE invite_id = :invite"))
    joined = set(users("SELECT user_id FROM memberships WHERE invite_id = :invite"))
    in_group = set(users("SELECT user_id FROM memberships WHERE group_path = :group",
                         group=group))
    events = users("SELECT user_id FROM events WHERE kind = 'joined' AND group_path = :group",
                   group=group)
    audited = {user for user, detail in conn.execute(text(
        "SELECT user_id, detail FROM audit WHERE kind = 'invite_redeemed'"))
        if json.loads(detail).get("invite_id") == invite_id}
    assert uses <= accepts, f"{name}: {uses} uses of {accepts}"
    assert uses == len(redeemed), f"{name}: uses {uses}, {len(redeemed)} redemptions"
    assert joined == redeemed == in_group, f"{name}: memberships and redemptions differ"
    assert sorted(events) == sorted(redeemed), f"{name}: joined events and members differ"
    assert audited == redeemed, f"{name}: audit entries and redemptions differ"
    return redeemed


def user_ids(database_url: str) -> dict[str, str]:
    store = open_store(database_url)
    try:
        with store.read() as conn:
            return dict(conn.execute(text(
                "SELECT subject, user_id FROM identities WHERE provider = 'test'")).all())
    finally:
        store.dispose()


def test_a_sigkill_during_200_redemptions_leaves_nothing_half_written(tmp_path, database_url):
    port, log = free_port(), tmp_path / "service.log"
    url = f"http://127.0.0.1:{port}"
    env = service_env(tmp_path / "run", LOGIN_DATABASE_URL=database_url)
    names = [f"person{number:03d}" for number in range(PEOPLE)]
    with running_logged(serve_args(port), port, env, log) as service:
        store = open_store(database_url)
        for group in GROUPS.values():
            store.access.ensure_group(GroupPath(group), 0, owner=("test", "olivia"))
        store.dispose()
        olivia = log_in(url, "olivia")
        codes = {invite: create_invite(olivia, url, GROUPS[invite], uses)
                 for invite, uses in (("plenty", PEOPLE), ("scarce", SCARCE))}
        browsers = log_in_all(url, names)
        answered, lock = [0], threading.Lock()

        def count_then_kill() -> None:
            with lock:
                answered[0] += 1
                if answered[0] == KILL_AFTER:
                    service.send_signal(signal.SIGKILL)

        first = redeem_all(browsers, url, codes, count_then_kill)
        service.wait(10)
    members = consistent(database_url, codes)
    statuses = set(first.values())
    assert {200, None} <= statuses, f"the kill did not fall mid-way: {statuses}"
    assert statuses <= {200, 409, None}, f"unexpected answers: {statuses}"
    ids = user_ids(database_url)
    lost = [job for job, status in first.items()
            if status == 200 and ids[job[1]] not in members[job[0]]]
    assert not lost, f"answered 200 but not stored: {lost}"
    # Again on the same database, with the same keys and secret: the cookies still work.
    with running_logged(serve_args(port), port, env, log):
        second = redeem_all(browsers, url, codes)
    assert set(second.values()) <= {200, 409}, set(second.values())
    members = consistent(database_url, codes)
    assert len(members["plenty"]) == PEOPLE
    assert len(members["scarce"]) == SCARCE
