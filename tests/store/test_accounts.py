"""Linked identities: link, unlink, never the last one, never merged; concurrent unlinks."""

from __future__ import annotations

import threading

import pytest

from flask_modular_login.store.accounts import (
    AccountError,
    IdentityTaken,
    LastIdentity,
    NoSuchIdentity,
)

NOW = 1_800_000_000


def identities(store, user_id):
    return [(i.provider, i.subject) for i in store.accounts.linked(user_id)]


def test_link_adds_an_identity_that_logs_in_as_the_same_user(store):
    alice = store.accounts.login("github", "1", "Alice", None, NOW)
    assert store.accounts.link(alice.id, "oidc.kc", "a-1", NOW + 1) is True
    assert identities(store, alice.id) == [("github", "1"), ("oidc.kc", "a-1")]
    assert store.accounts.login("oidc.kc", "a-1", "Alice K", None, NOW + 2).id == alice.id


def test_linking_an_identity_twice_is_harmless(store):
    alice = store.accounts.login("github", "1", "Alice", None, NOW)
    assert store.accounts.link(alice.id, "github", "1", NOW) is False
    assert identities(store, alice.id) == [("github", "1")]


def test_an_identity_of_another_user_is_never_merged(store):
    alice = store.accounts.login("github", "1", "Alice", None, NOW)
    bob = store.accounts.login("google", "2", "Bob", None, NOW)
    with pytest.raises(IdentityTaken):
        store.accounts.link(alice.id, "google", "2", NOW)
    assert identities(store, alice.id) == [("github", "1")]
    assert identities(store, bob.id) == [("google", "2")]


def test_link_to_a_missing_user_is_refused(store):
    with pytest.raises(AccountError):
        store.accounts.link("no-such-user", "github", "1", NOW)


def test_unlink_removes_one_identity_but_never_the_last(store):
    alice = store.accounts.login("github", "1", "Alice", None, NOW)
    store.accounts.link(alice.id, "google", "g", NOW)
    store.accounts.unlink(alice.id, "github", "1", NOW)
    assert identities(store, alice.id) == [("google", "g")]
    with pytest.raises(LastIdentity):
        store.accounts.unlink(alice.id, "google", "g", NOW)
    assert identities(store, alice.id) == [("google", "g")]


def test_unlink_is_scoped_to_the_user(store):
    alice = store.accounts.login("github", "1", "Alice", None, NOW)
    store.accounts.link(alice.id, "google", "g", NOW)
    bob = store.accounts.login("github", "2", "Bob", None, NOW)
    store.accounts.link(bob.id, "google", "h", NOW)
    with pytest.raises(NoSuchIdentity):
        store.accounts.unlink(alice.id, "google", "h", NOW)
    with pytest.raises(NoSuchIdentity):
        store.accounts.unlink(alice.id, "facebook", "g", NOW)
    assert len(identities(store, bob.id)) == 2


@pytest.mark.parametrize("attempt", range(10))
def test_concurrent_unlinks_of_the_last_two_leave_one(store, attempt):
    alice = store.accounts.login("github", "1", "Alice", None, NOW)
    store.accounts.link(alice.id, "google", "g", NOW)
    barrier = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def unlink(provider, subject):
        barrier.wait()
        try:
            store.accounts.unlink(alice.id, provider, subject, NOW)
            outcomes.append("unlinked")
        except LastIdentity:
            outcomes.append("last")

    threads = [threading.Thread(target=unlink, args=identity)
               for identity in (("github", "1"), ("google", "g"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["last", "unlinked"]
    assert len(identities(store, alice.id)) == 1


def test_concurrent_links_of_one_identity_by_two_users_give_it_to_one(store):
    users = [store.accounts.login("github", str(n), f"U{n}", None, NOW) for n in range(2)]
    barrier = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def link(user):
        barrier.wait()
        try:
            store.accounts.link(user.id, "google", "shared", NOW)
            outcomes.append("linked")
        except IdentityTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=link, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["linked", "taken"]
