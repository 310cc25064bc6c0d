"""Membership answers in memcached: hits, expiry, and invalidation after each committed change."""

from __future__ import annotations

import pytest

from flask_modular_login import keystore
from flask_modular_login.cache import MemoryCache
from flask_modular_login.cache.memberships import ANSWER_TTL, CachedGrants
from flask_modular_login.config import load_settings
from flask_modular_login.core.groups import GroupPath, Held
from flask_modular_login.core.invitations import Grant
from flask_modular_login.service import Services
from flask_modular_login.store import open_store

CHAT = GroupPath.parse("chat")
ROOM = GroupPath.parse("chat/room")


class Counting:
    """The store's ``grants``, counting the paths it was asked (the database lookups)."""

    def __init__(self, access):
        self.access = access
        self.asked: list[list[GroupPath]] = []
        self.meanwhile = None

    def grants(self, user_id, paths, now):
        self.asked.append(list(paths))
        answer = self.access.grants(user_id, paths, now)
        if self.meanwhile:  # a change commits between our read and our cache write
            change, self.meanwhile = self.meanwhile, None
            change()
        return answer


@pytest.fixture
def world(tmp_path, clock, memcached, connect):
    settings = load_settings(environ={}, run_dir=tmp_path / "run")
    keystore.load(settings.keys_dir, create=True)
    store = open_store(settings.database_url, migrate=True)
    cache = connect(memcached.spec)
    services = Services.build(store, keystore.KeyCache(settings.keys_dir).get, settings, clock,
                              cache=cache)
    store.access.ensure_group(ROOM, int(clock()))
    counting = Counting(store.access)
    services.access._grants.source = counting  # count what reaches the database
    yield services, counting
    store.dispose()


def user(services, name, clock):
    return services.store.accounts.login("test", name, name, None, int(clock())).id


def test_a_second_answer_comes_from_memcached(world, clock, memcached):
    services, counting = world
    alice = user(services, "alice", clock)
    services.access.add_member(None, CHAT, alice)
    first = services.access.grants(alice, [ROOM, CHAT], clock())
    hits = memcached.stats()["get_hits"]
    assert services.access.grants(alice, [ROOM, CHAT], clock()) == first
    assert first[ROOM] == Held(CHAT, None)
    assert counting.asked == [[ROOM, CHAT]], "one database lookup"
    assert memcached.stats()["get_hits"] > hits
    services.access.grants(alice, [GroupPath.parse("other")], clock())
    assert counting.asked[-1] == [GroupPath.parse("other")], "only what is missing is asked"


def test_every_committed_change_shows_in_the_next_answer(world, clock):
    services, counting = world
    alice, bob = user(services, "alice", clock), user(services, "bob", clock)
    assert services.access.grants(alice, [ROOM], clock())[ROOM] is None
    services.access.add_member(None, CHAT, alice)
    assert services.access.grants(alice, [ROOM], clock())[ROOM] == Held(CHAT, None)
    assert services.access.grants(bob, [ROOM], clock())[ROOM] is None
    services.access.add_member(None, CHAT, bob, Grant(spots=1))
    assert services.access.grants(bob, [ROOM], clock())[ROOM] == Held(CHAT, None)
    services.access.remove(bob, CHAT, bob)  # leaving
    assert services.access.grants(bob, [ROOM], clock())[ROOM] is None
    assert services.access.drop_member(None, CHAT, alice)
    assert services.access.grants(alice, [ROOM], clock())[ROOM] is None
    assert len(counting.asked) == 6, "each answer after a change came from the database"


def test_a_read_before_the_change_never_serves_after_it(world, clock):
    """Reader: read the database (no access), then the change commits and the generation is
    forgotten, then the reader caches its stale answer: under the old generation."""
    services, counting = world
    alice = user(services, "alice", clock)
    counting.meanwhile = lambda: services.access.add_member(None, CHAT, alice)
    assert services.access.grants(alice, [ROOM], clock())[ROOM] is None  # stale, as read
    assert services.access.grants(alice, [ROOM], clock())[ROOM] == Held(CHAT, None)
    assert services.access.grants(alice, [ROOM], clock())[ROOM] == Held(CHAT, None)
    assert len(counting.asked) == 2, "the stale answer was never read back"


def test_an_answer_is_never_served_past_the_membership_end(world, clock):
    services, counting = world
    alice = user(services, "alice", clock)
    services.access.add_member(None, CHAT, alice, Grant(expires=clock() + 30))
    assert services.access.grants(alice, [ROOM], clock())[ROOM] == Held(CHAT, clock() + 30)
    clock.advance(29.5)
    assert services.access.grants(alice, [ROOM], clock())[ROOM] is not None
    assert len(counting.asked) == 1
    clock.advance(0.5)
    assert services.access.grants(alice, [ROOM], clock())[ROOM] is None, "ended: asked again"
    assert len(counting.asked) == 2


def test_link_and_unlink_forget_owned_groups(world, clock):
    services, counting = world
    alice = user(services, "alice", clock)
    services.store.access.ensure_group(GroupPath.parse("mine"), int(clock()), ("test", "owner"))
    assert services.access.grants(alice, [GroupPath.parse("mine")], clock())[
        GroupPath.parse("mine")] is None
    services.sessions.link_identity(alice, "test", "owner")
    assert services.access.grants(alice, [GroupPath.parse("mine")], clock())[
        GroupPath.parse("mine")] is not None, "the linked identity owns the group"


def test_ttl_bounds_answers_and_memory_cache_expires_them(clock):
    """Without anyone forgetting (a change made outside the service), ANSWER_TTL bounds it."""
    answers = {"u": {ROOM: None}}

    class Source:
        def grants(self, user_id, paths, now):
            return {path: answers[user_id][path] for path in paths}

    cached = CachedGrants(Source(), MemoryCache(clock))
    assert cached.grants("u", [ROOM], clock()) == {ROOM: None}
    answers["u"][ROOM] = Held(CHAT, None)  # changed behind the cache's back
    clock.advance(ANSWER_TTL - 1)
    assert cached.grants("u", [ROOM], clock()) == {ROOM: None}
    clock.advance(1)
    assert cached.grants("u", [ROOM], clock()) == {ROOM: Held(CHAT, None)}


def test_memcached_down_answers_from_the_database(world, clock, memcached):
    services, counting = world
    alice = user(services, "alice", clock)
    services.access.add_member(None, CHAT, alice)
    memcached.kill()
    for _ in range(3):
        assert services.access.grants(alice, [ROOM], clock())[ROOM] == Held(CHAT, None)
    services.access.drop_member(None, CHAT, alice)  # forgetting fails: nothing to forget
    assert services.access.grants(alice, [ROOM], clock())[ROOM] is None
    assert len(counting.asked) == 4


def test_a_root_claimed_by_the_operator_shows_at_once(world, clock):
    from flask_modular_login.service.admin import AdminService

    services, counting = world
    alice = user(services, "alice", clock)
    services.sessions.link_identity(alice, "test", "boss")
    mine = GroupPath.parse("mine")
    assert services.access.grants(alice, [mine], clock())[mine] is None
    admin = AdminService(services.store, services.notifier, services.sessions.now,
                         services.access)
    assert admin.ensure_group(mine, ("test", "boss"))
    assert services.access.grants(alice, [mine], clock())[mine] is not None


def test_the_channel_oracle_answers_from_the_cache(world, clock):
    from flask_modular_login.channel.oracle import StoreOracle

    services, counting = world
    alice = user(services, "alice", clock)
    services.access.add_member(None, CHAT, alice, Grant(expires=clock() + 50))
    for _ in range(3):
        oracle = StoreOracle(services.access, clock())
        assert oracle.memberships(alice, [ROOM]) == {ROOM: CHAT}
        assert oracle.until == clock() + 50, "the answer's end travels with it"
    assert len(counting.asked) == 1


def test_a_damaged_answer_is_a_miss(clock):
    from flask_modular_login.cache import cache_key, generations
    from flask_modular_login.cache.memberships import generation_key

    class Source:
        def grants(self, user_id, paths, now):
            return {path: Held(CHAT, None) for path in paths}

    cache = MemoryCache(clock)
    generation = generations.current(cache, generation_key("u"))
    for damaged in ({"held": True, "group": "//", "until": None}, {"held": "yes"},
                    {"held": True, "group": "chat", "until": "later"}, [1], "x"):
        cache.set(cache_key("grant", "u", generation, ROOM), damaged, 60)
        assert CachedGrants(Source(), cache).grants("u", [ROOM], clock()) == {
            ROOM: Held(CHAT, None)}
