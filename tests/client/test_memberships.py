"""The cached membership oracle: one query cold, none warm, invalidated within the poll bound."""

from __future__ import annotations

import pytest

from flask_modular_login import AccessNamespace, Grant
from flask_modular_login.client.events import EventsUnavailable
from flask_modular_login.core.groups import GroupPath

CHAT = AccessNamespace("chat", ownership_method="test", owner_id="olivia")
POLL = 0.25


@pytest.fixture
def access(interface):
    return interface.access


@pytest.fixture
def user(interface, clock):
    def make(name: str) -> str:
        return interface.store.accounts.login("test", name, name, None, int(clock())).id

    return make


def allowed(access, expr, user_id) -> bool:
    return access.evaluate(expr, user_id).allowed


def test_a_cold_check_is_one_query_and_a_warm_one_none(access, user, queries):
    alice, bob = user("alice"), user("bob")
    access.add_member(CHAT / "a", alice)
    expr = ~(CHAT / "blocked") & (CHAT / "a" / "b" / "c") + CHAT / "z"
    assert allowed(access, expr, alice)
    queries.clear()
    assert not allowed(access, expr, bob)
    assert len(queries) == 1, queries
    queries.clear()
    for _ in range(100):
        assert allowed(access, expr, alice)
        assert not allowed(access, expr, bob)
    assert queries == []


def test_a_removal_elsewhere_is_seen_after_one_poll_interval_not_before(
        access, user, interface, clock, queries):
    alice = user("alice")
    access.add_member(CHAT / "a", alice)
    assert allowed(access, CHAT / "a" / "x", alice)
    interface.store.access.remove_member(CHAT / "a", alice, int(clock()))  # another process
    clock.advance(POLL * 0.4)
    assert allowed(access, CHAT / "a" / "x", alice), "inside the bound: still cached"
    clock.advance(POLL * 0.7)
    queries.clear()
    assert not allowed(access, CHAT / "a" / "x", alice)
    assert len(queries) == 2, "one poll of the events, one query for the forgotten user"


def test_events_are_read_at_most_once_per_interval(access, user, clock, queries):
    alice = user("alice")
    access.add_member(CHAT, alice)
    clock.advance(POLL)
    allowed(access, CHAT / "a", alice)  # reads the event of our own change, too
    queries.clear()
    for _ in range(10):
        clock.advance(POLL / 20)
        allowed(access, CHAT / "a", alice)
    assert queries == []
    clock.advance(POLL)
    allowed(access, CHAT / "a", alice)
    assert len(queries) == 1


def test_an_addition_elsewhere_ends_a_cached_refusal(access, user, interface, clock):
    alice = user("alice")
    assert not allowed(access, CHAT / "a", alice)
    interface.store.access.add_member(CHAT, alice, int(clock()))
    clock.advance(POLL)
    assert allowed(access, CHAT / "a", alice)


def test_expiry_is_honoured_while_cached(access, user, interface, clock, queries):
    alice = user("alice")
    access.add_member(CHAT, alice)
    access.add_member(CHAT / "a", alice, Grant(expires=clock() + 10))
    interface.store.access.remove_member(CHAT, alice, int(clock()))
    evaluation = access.evaluate(CHAT / "a" + CHAT / "b", alice)
    assert evaluation.via == {"chat/a": "chat/a", "chat/b": None}, "chat's removal unseen yet"
    clock.advance(9.9)
    assert allowed(access, CHAT / "a", alice)
    clock.advance(0.1)
    assert not allowed(access, CHAT / "a", alice), "expired: never granted from the cache"


def test_a_shorter_expiry_below_a_lasting_grant_falls_back_to_it(access, user, clock):
    alice = user("alice")
    access.add_member(CHAT, alice)
    access.add_member(CHAT / "a", alice, Grant(expires=clock() + 10))
    assert access.evaluate(CHAT / "a" + CHAT, alice).via["chat/a"] == "chat/a"
    clock.advance(10)
    assert access.evaluate(CHAT / "a" + CHAT, alice).via["chat/a"] == "chat"


def test_answers_no_event_announces_last_at_most_max_age(access, user, interface, clock):
    alice = user("alice")
    mine = GroupPath("mine")
    assert not allowed(access, mine / "x", alice)
    interface.store.access.ensure_group(mine, int(clock()), owner=("test", "alice"))
    assert not allowed(access, mine / "x", alice), "owners are not announced by events"
    clock.advance(access.oracle.max_age)
    assert allowed(access, mine / "x", alice)


def test_unreadable_events_fail_closed_after_the_staleness_limit(access, user, interface,
                                                                 clock, monkeypatch):
    alice = user("alice")
    access.add_member(CHAT, alice)
    assert allowed(access, CHAT / "a", alice)

    def broken(*args, **kwargs):
        raise OSError("database unreachable")

    monkeypatch.setattr(interface.store.events, "after", broken)
    clock.advance(1)
    assert allowed(access, CHAT / "a", alice), "a short outage is tolerated"
    clock.advance(10)
    with pytest.raises(EventsUnavailable):
        access.evaluate(CHAT / "a", alice)


def test_changes_through_the_api_are_seen_at_once_in_this_process(access, user, queries):
    alice = user("alice")
    assert not allowed(access, CHAT / "a", alice)
    access.add_member(CHAT / "a", alice)
    assert allowed(access, CHAT / "a", alice)
    assert access.remove_member(CHAT / "a", alice)
    assert not allowed(access, CHAT / "a", alice)
    assert not access.remove_member(CHAT / "a", alice)


def test_decisions_are_cached_per_expression_and_dropped_with_the_user(
        access, user, interface, clock, queries):
    alice = user("alice")
    access.add_member(CHAT / "a", alice)
    both, either = CHAT / "a" & CHAT / "b", CHAT / "a" | CHAT / "b"
    assert not allowed(access, both, alice) and allowed(access, either, alice)
    queries.clear()
    assert not allowed(access, both, alice) and allowed(access, either, alice)
    assert queries == []
    interface.store.access.add_member(CHAT / "b", alice, int(clock()))  # another process
    clock.advance(POLL)
    assert allowed(access, both, alice)


def test_linking_and_unlinking_an_owner_identity_reaches_caches_within_the_poll(
        access, user, interface, clock):
    alice = user("alice")
    access.ensure(CHAT)
    assert not allowed(access, CHAT / "room", alice)
    interface.store.accounts.link(alice, "test", "olivia", int(clock()))  # CHAT's owner
    clock.advance(POLL)
    assert allowed(access, CHAT / "room", alice), "ownership arrived with the link"
    interface.store.accounts.unlink(alice, "test", "olivia", int(clock()))
    clock.advance(POLL)
    assert not allowed(access, CHAT / "room", alice), "ownership left with the unlink"
