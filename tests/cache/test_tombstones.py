"""Ended sessions in memcached: a renewal of one needs no database; a tombstone is never undone."""

from __future__ import annotations

import pytest

from flask_modular_login import keystore, signals
from flask_modular_login.cache import MemoryCache
from flask_modular_login.cache.sessions import TOMBSTONE_TTL, SessionTombstones
from flask_modular_login.config import load_settings
from flask_modular_login.core.errors import SessionEnded
from flask_modular_login.service import Services
from flask_modular_login.store import open_store


@pytest.fixture
def services(tmp_path, clock, memcached, connect):
    settings = load_settings(environ={}, run_dir=tmp_path / "run", lease_seconds=900)
    keystore.load(settings.keys_dir, create=True)
    store = open_store(settings.database_url, migrate=True)
    built = Services.build(store, keystore.KeyCache(settings.keys_dir).get, settings, clock,
                           cache=connect(memcached.spec))
    yield built
    store.dispose()


@pytest.fixture
def renewals(services, monkeypatch):
    """The renewals that reached the database."""
    calls = []
    original = services.store.sessions.renew

    def counted(*args, **kwargs):
        calls.append(args[0].session_id)
        return original(*args, **kwargs)

    monkeypatch.setattr(services.store.sessions, "renew", counted)
    return calls


def login(services, clock, name="alice"):
    user_id = services.store.accounts.login("test", name, name, None, int(clock())).id
    return services.sessions.start(user_id, "test")


def test_logout_leaves_a_tombstone_and_renewals_then_skip_the_database(
        services, clock, renewals, memcached, monkeypatch):
    issued = login(services, clock)
    clock.advance(1000)
    services.sessions.renew(issued.lease)  # live: the database decides and records
    assert len(renewals) == 1
    assert services.sessions.end(issued.lease.session_id, "logout")
    hits = memcached.stats()["get_hits"]
    handles = []
    original = services.store.sessions.handle
    monkeypatch.setattr(services.store.sessions, "handle",
                        lambda session_id: handles.append(1) or original(session_id))
    refused = []

    def receiver(sender, **kw):
        refused.append(kw["handle"])

    signals.renewal_refused.connect(receiver)
    try:
        for _ in range(3):
            with pytest.raises(SessionEnded):
                services.sessions.renew(issued.lease)
    finally:
        signals.renewal_refused.disconnect(receiver)
    assert len(renewals) == 1, "refused from the tombstone"
    assert memcached.stats()["get_hits"] == hits + 3
    assert len(handles) == 1 and refused == [original(issued.lease.session_id)] * 3, \
        "the first refusal reads the handle once, for the signal; then none"


def test_a_refusal_by_the_database_leaves_a_tombstone(services, clock, renewals):
    first = login(services, clock)
    second = services.sessions.start(first.lease.user_id, "test")
    services.sessions.end_others(first.lease.user_id, keep=second.lease.session_id)
    clock.advance(1000)
    for _ in range(3):
        with pytest.raises(SessionEnded):
            services.sessions.renew(first.lease)
    assert renewals == [first.lease.session_id], "only the first asked the database"
    assert services.sessions._tombstones.ended(first.lease.session_id).handle == \
        services.store.sessions.handle(first.lease.session_id), "kept for the signal"
    services.sessions.renew(second.lease)
    services.sessions.renew(second.lease)
    assert renewals.count(second.lease.session_id) == 2, "a live session is never cached"


def test_memcached_down_renewals_go_to_the_database(services, clock, renewals, memcached):
    issued = login(services, clock)
    services.sessions.end(issued.lease.session_id, "logout")
    memcached.kill()
    with pytest.raises(SessionEnded):
        services.sessions.renew(issued.lease)
    live = login(services, clock, "bob")
    clock.advance(1000)
    assert services.sessions.renew(live.lease).lease.expires_at == clock() + 900
    assert len(renewals) == 2


def test_a_tombstone_lives_until_the_session_would_have_ended(clock):
    cache = MemoryCache(clock)
    tombstones = SessionTombstones(cache)
    tombstones.bury("s1", session_end=clock() + 100, now=clock())
    tombstones.bury("s2", session_end=clock() + 10 * TOMBSTONE_TTL, now=clock())
    tombstones.bury("s3", session_end=clock() - 1, now=clock())
    assert tombstones.ended("s1") and tombstones.ended("s2") and not tombstones.ended("s3")
    clock.advance(100)
    assert not tombstones.ended("s1") and tombstones.ended("s2")
    clock.advance(TOMBSTONE_TTL)
    assert not tombstones.ended("s2")
    assert not any("s1" in key for key in cache._entries), "no session id in a key"
