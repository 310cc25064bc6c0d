"""The in-process membership cache: expiry, invalidation, the epoch guard, its size bound."""

from __future__ import annotations

from flask_modular_login.client.membership_cache import InProcessMembershipCache
from flask_modular_login.core.groups import GroupPath

A, B = GroupPath("a"), GroupPath("a") / "b"


def test_an_answer_is_good_until_its_end():
    cache = InProcessMembershipCache()
    cache.put("u", B, A, until=10.0, epoch=cache.epoch)
    cache.put("u", A, None, until=20.0, epoch=cache.epoch)
    assert cache.get("u", B, 9.9) == (A, 10.0)
    assert cache.get("u", A, 9.9) == (None, 20.0)
    assert cache.get("u", B, 10.0) is None
    assert cache.get("v", B, 0.0) is None


def test_forget_drops_one_user_and_clear_everyone():
    cache = InProcessMembershipCache()
    for user in ("u", "v"):
        cache.put(user, A, A, until=10.0, epoch=cache.epoch)
    cache.forget("u")
    assert cache.get("u", A, 0.0) is None and cache.get("v", A, 0.0) == (A, 10.0)
    cache.clear()
    assert cache.get("v", A, 0.0) is None and len(cache) == 0


def test_an_answer_read_before_an_invalidation_is_not_kept():
    cache = InProcessMembershipCache()
    epoch = cache.epoch  # a reader starts its query ...
    cache.forget("u")  # ... an event arrives meanwhile ...
    cache.put("u", A, A, until=10.0, epoch=epoch)  # ... and its answer may predate it
    assert cache.get("u", A, 0.0) is None


def test_the_cache_stays_within_its_size_dropping_the_oldest_users_first():
    cache = InProcessMembershipCache(max_entries=4)
    for user in ("u1", "u2", "u3"):
        cache.put(user, A, A, until=10.0, epoch=cache.epoch)
        cache.put(user, B, A, until=10.0, epoch=cache.epoch)
    assert len(cache) <= 4
    assert cache.get("u3", B, 0.0) == (A, 10.0)
    assert cache.get("u1", A, 0.0) is None
    for n in range(10):
        cache.put("u3", A / str(n), A, until=10.0, epoch=cache.epoch)
    assert len(cache) <= 4
