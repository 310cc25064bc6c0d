"""AccessNamespace: a GroupPath with an owner, made to exist lazily, first claim wins."""

from __future__ import annotations

import threading

import pytest

from flask_modular_login import AccessNamespace
from flask_modular_login.client.namespace import OwnedPath
from flask_modular_login.core.groups import GroupPath, Info, InMemoryMemberships
from flask_modular_login.store import open_store

NOW = 1_800_000_000


@pytest.fixture
def store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'users.db'}", migrate=True)
    yield store
    store.dispose()


def test_a_namespace_is_a_group_path_and_its_subpaths_keep_the_owner():
    chat = AccessNamespace("chat", ownership_method="test", owner_id="127.0.0.1")
    path = chat / "x" / "y"
    assert chat == GroupPath("chat") and path == GroupPath.parse("chat/x/y")
    assert hash(path) == hash(GroupPath.parse("chat/x/y"))
    assert isinstance(path, OwnedPath) and path.owner == ("test", "127.0.0.1")
    assert (chat.ownership_method, chat.owner_id) == ("test", "127.0.0.1")
    assert str(~(chat / "a") & (chat / "b") | chat ^ chat) == "((~chat/a & chat/b) | (chat ^ chat))"
    assert isinstance(chat / "a" + chat / "b", Info)


def test_a_namespace_evaluates_like_a_path():
    chat = AccessNamespace("chat", ownership_method="test", owner_id="o")
    oracle = InMemoryMemberships()
    oracle.add("u", GroupPath("chat") / "a")
    assert (chat / "a" / "b").evaluate("u", oracle).allowed
    assert not (~(chat / "a")).evaluate("u", oracle).allowed


@pytest.mark.parametrize("kwargs", [{"ownership_method": "", "owner_id": "x"},
                                    {"ownership_method": "test", "owner_id": None}])
def test_an_owner_is_required(kwargs):
    with pytest.raises(ValueError):
        AccessNamespace("chat", **kwargs)


@pytest.mark.parametrize("name", ["a/b", "", "tab\t"])
def test_a_namespace_name_is_one_segment(name):
    with pytest.raises(ValueError):
        AccessNamespace(name, ownership_method="test", owner_id="o")


def test_ensure_is_idempotent_and_the_first_claim_wins(store):
    chat = AccessNamespace("chat", ownership_method="test", owner_id="o")
    assert chat.ensure(store, NOW) and chat.ensure(store, NOW)
    thief = AccessNamespace("chat", ownership_method="test", owner_id="mallory")
    assert not thief.ensure(store, NOW)
    assert store.access.owners(chat) == [("test", "o")]


def test_ensure_claims_a_root_made_without_an_owner(store):
    store.access.ensure_group(GroupPath("chat") / "x", NOW)
    assert AccessNamespace("chat", ownership_method="test", owner_id="o").ensure(store, NOW)
    assert store.access.owners(GroupPath("chat")) == [("test", "o")]


def test_concurrent_claims_leave_exactly_one_owner(store):
    results: list[bool] = []
    claimants = [AccessNamespace("race", ownership_method="test", owner_id=f"p{n}")
                 for n in range(8)]
    threads = [threading.Thread(target=lambda ns=ns: results.append(ns.ensure(store, NOW)))
               for ns in claimants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert len(store.access.owners(GroupPath("race"))) == 1
