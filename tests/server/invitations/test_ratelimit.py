"""The in-process rate limiter behind short codes: a sliding window per key, frozen clock."""

from __future__ import annotations

import threading

import pytest

from flask_modular_login.server.invitations.ratelimit import RateLimiter, client_key, retry_header
from tests.conftest import FrozenClock


def test_allows_limit_hits_per_window_then_says_how_long_to_wait():
    clock = FrozenClock(100.0)
    limiter = RateLimiter(3, 60, clock=clock)
    assert [limiter.hit("k") for _ in range(3)] == [None] * 3
    clock.advance(10)
    assert limiter.hit("k") == pytest.approx(50)
    assert limiter.hit("other") is None, "keys count separately"
    clock.advance(50)
    assert limiter.hit("k") is None, "the first hits left the window"
    assert [limiter.hit("k") is None for _ in range(3)] == [True, True, False]


def test_refused_hits_do_not_extend_the_wait():
    clock = FrozenClock(0.0)
    limiter = RateLimiter(1, 10, clock=clock)
    assert limiter.hit("k") is None
    for _ in range(5):
        clock.advance(1)
        assert limiter.hit("k") is not None
    clock.advance(5)
    assert limiter.hit("k") is None


def test_memory_is_bounded_and_fails_closed_when_full():
    clock = FrozenClock(0.0)
    limiter = RateLimiter(1, 10, clock=clock, max_keys=2)
    assert limiter.hit("a") is None and limiter.hit("b") is None
    assert limiter.hit("c") == 10, "full of live keys: refuse rather than forget"
    clock.advance(10)
    assert limiter.hit("c") is None, "old keys were swept"


def test_wait_answers_like_hit_but_counts_nothing_and_adds_no_key():
    clock = FrozenClock(0.0)
    limiter = RateLimiter(2, 10, clock=clock, max_keys=2)
    assert limiter.wait("a") is None and limiter.hit("a") is None
    assert [limiter.wait("a") for _ in range(5)] == [None] * 5, "asking counts nothing"
    assert limiter.hit("a") is None and limiter.wait("a") == 10
    for key in ("new1", "new2", "new3"):
        assert limiter.wait(key) is None, "asking adds no key"
    assert limiter.hit("b") is None
    assert limiter.wait("c") == 10, "full of live keys: a new key would be refused"
    clock.advance(10)
    assert limiter.wait("c") is None


@pytest.mark.parametrize(("address", "key"), [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2::7", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    ("", "?"), (None, "?"), ("not-an-ip", "not-an-ip"),
])
def test_client_keys_group_an_ipv6_host_by_its_64(address, key):
    assert client_key(address) == key


def test_concurrent_hits_never_exceed_the_limit():
    limiter = RateLimiter(25, 60, clock=lambda: 0.0)
    allowed: list[bool] = []
    barrier = threading.Barrier(8)

    def hammer():
        barrier.wait()
        for _ in range(20):
            allowed.append(limiter.hit("k") is None)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 25


def test_bad_settings_and_retry_header():
    with pytest.raises(ValueError):
        RateLimiter(0, 1)
    with pytest.raises(ValueError):
        RateLimiter(1, 0)
    assert retry_header(0.01) == "1" and retry_header(59.2) == "60"
