"""Short-code rate limits counted in memcached: every process counts together."""

from __future__ import annotations

import threading
import time

import pytest

from flask_modular_login.cache import MemoryCache, NullCache
from flask_modular_login.server.invitations.ratelimit import RateLimiter, SharedRateLimiter

WINDOW = 600


@pytest.fixture
def two_processes(memcached, connect, clock):
    """Two limiters with caches of their own on one memcached, as two workers would have."""
    return [SharedRateLimiter(connect(memcached.spec), "code:user", 5, WINDOW, clock=clock)
            for _ in range(2)]


def test_two_processes_count_together(two_processes, clock):
    clock.now = 1_800_000_000 - 1_800_000_000 % WINDOW  # the start of a window
    first, second = two_processes
    answers = [limiter.hit("alice") for _ in range(3) for limiter in (first, second)]
    assert answers[:5] == [None] * 5
    assert answers[5] == WINDOW, "the sixth, in either process, waits for the next window"
    assert first.wait("alice") == WINDOW and second.wait("bob") is None
    assert second.hit("bob") is None, "keys count apart"
    clock.advance(WINDOW - 1)
    assert second.hit("alice") == 1
    clock.advance(1)
    assert first.hit("alice") is None, "a new window, a new count"


def test_wait_counts_nothing(two_processes):
    first, second = two_processes
    for _ in range(10):
        assert first.wait("carol") is None
    assert [second.hit("carol") for _ in range(5)] == [None] * 5
    assert first.hit("carol") is not None


def test_concurrent_hits_pass_at_most_the_limit(memcached, connect, clock):
    limiters = [SharedRateLimiter(connect(memcached.spec), "ip", 20, WINDOW, clock=clock)
                for _ in range(4)]
    passed = []

    def hammer(limiter):
        for _ in range(25):
            if limiter.hit("10.0.0.1") is None:
                passed.append(1)

    threads = [threading.Thread(target=hammer, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(passed) == 20


def test_memcached_down_counts_in_process_never_unlimited(memcached, connect, clock):
    limiter = SharedRateLimiter(connect(memcached.spec, retry_seconds=60), "u", 3, WINDOW,
                                clock=clock)
    assert limiter.hit("dave") is None
    memcached.kill()
    assert [limiter.hit("dave") for _ in range(4)] == [None, None, None, pytest.approx(WINDOW)]
    assert limiter.wait("dave") is not None


def test_memcached_back_counts_shared_again(memcached, connect, clock):
    limiter = SharedRateLimiter(connect(memcached.spec, retry_seconds=0.01, dead_seconds=0.01),
                                "u", 3, WINDOW, clock=clock)
    memcached.kill()
    assert limiter.hit("erin") is None  # in process
    memcached.start()
    deadline = time.monotonic() + 5
    while limiter.cache.count("login:probe", 0, 10) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [limiter.hit("erin") for _ in range(4)][3] is not None
    assert memcached.stats()["incr_hits"] >= 3, "counted in memcached"


def test_without_a_cache_it_is_the_in_process_limiter(clock):
    limiter = SharedRateLimiter(NullCache(), "u", 2, WINDOW, clock=clock)
    assert isinstance(limiter.fallback, RateLimiter)
    assert [limiter.hit("k") for _ in range(3)][:2] == [None, None]
    assert limiter.hit("k") is not None and limiter.wait("other") is None


def test_counters_expire_with_their_window(clock):
    cache = MemoryCache(clock)
    limiter = SharedRateLimiter(cache, "u", 1, 60, clock=clock)
    clock.now = 6000.0
    assert limiter.hit("k") is None and limiter.hit("k") == 60
    clock.advance(61)
    assert all(expires <= clock() + 62 for expires, _ in cache._entries.values())
    assert limiter.hit("k") is None
