"""The session use cases tell the notifier, and logins keep the event log short."""

from __future__ import annotations

import pytest

from flask_modular_login import keystore
from flask_modular_login.config import load_settings
from flask_modular_login.core.groups import GroupPath
from flask_modular_login.service import Services
from flask_modular_login.service.sessions import PURGE_EVERY, UnknownUser
from flask_modular_login.store import open_store


@pytest.fixture
def services(tmp_path, clock, database_url):
    settings = load_settings(environ={}, run_dir=tmp_path / "run", lease_seconds=900,
                             database_url=database_url)
    keystore.load(settings.keys_dir, create=True)
    store = open_store(settings.database_url, migrate=True)
    built = Services.build(store, keystore.KeyCache(settings.keys_dir).get, settings, clock)
    yield built
    store.dispose()


def user(services, name: str, clock) -> str:
    return services.store.accounts.login("test", name, name, None, int(clock())).id


def test_every_ending_tells_the_notifier_once_and_nothing_else_does(services, clock):
    told = []
    services.notifier.subscribe(lambda: told.append(1))
    alice = user(services, "alice", clock)
    first = services.sessions.start(alice, "test")
    second = services.sessions.start(alice, "test")
    assert told == [], "starting a session changes no client's view"
    assert services.sessions.end_others(alice, keep=second.lease.session_id) == 1
    assert not services.sessions.end(first.lease.session_id, "logout"), "already ended"
    assert services.sessions.remove_user(alice) == 1
    assert len(told) == 2
    with pytest.raises(UnknownUser):
        services.sessions.remove_user(alice)


def test_logins_purge_the_event_log_at_most_hourly(services, clock):
    alice = user(services, "alice", clock)
    ended = services.sessions.start(alice, "test").lease.session_id
    services.sessions.end(ended, "logout")
    services.store.access.add_member(GroupPath("chat"), alice, int(clock()))
    assert len(services.store.events.after(0)) == 2
    clock.advance(PURGE_EVERY)
    services.sessions.start(alice, "test")  # the lease of `ended` is over; the change is old
    assert [e.kind for e in services.store.events.after(0)] == ["added"], (
        "the newest event stays, so the cursor never goes back")
    services.store.access.add_member(GroupPath("chat") / "x", alice, int(clock()))
    clock.advance(PURGE_EVERY - 1)
    services.sessions.start(alice, "test")
    assert len(services.store.events.after(0)) == 2, "not purged again within the hour"
