"""Every cache answers the same way: memcached (TCP and unix socket), in process, and none."""

from __future__ import annotations

import pytest

from flask_modular_login.cache import (
    PREFIX,
    MemoryCache,
    NullCache,
    cache_key,
    open_cache,
    shared_cache,
)
from flask_modular_login.cache.memcached import MemcachedCache


@pytest.fixture(params=["memory", "tcp", "unix"])
def cache(request, clock, connect):
    if request.param == "memory":
        return MemoryCache(clock)
    server = request.getfixturevalue("memcached" if request.param == "tcp"
                                     else "memcached_socket")
    return connect(server.spec)


def test_get_set_add_delete(cache):
    key = cache_key("test", "a")
    assert cache.get(key) is None
    cache.set(key, {"x": [1, "two", None]}, 60)
    assert cache.get(key) == {"x": [1, "two", None]}
    assert cache.add(key, "other", 60) is False, "add never overwrites"
    assert cache.get(key) == {"x": [1, "two", None]}
    cache.delete(key)
    assert cache.add(key, "new", 60) is True
    assert cache.get_many([key, cache_key("test", "missing")]) == {key: "new"}
    assert cache.healthy()


def test_count_creates_then_adds_and_zero_only_reads(cache):
    key = cache_key("test", "counter")
    assert cache.count(key, 0, 60) == 0
    assert [cache.count(key, 1, 60) for _ in range(3)] == [1, 2, 3]
    assert cache.count(key, 0, 60) == 3
    assert cache.get(key) == 3, "a counter reads as a JSON number"


def test_entries_expire_by_their_ttl(clock):
    cache = MemoryCache(clock)
    cache.set("k", 1, 10)
    cache.count("c", 1, 10)
    clock.advance(9.9)
    assert cache.get("k") == 1 and cache.count("c", 0, 10) == 1
    clock.advance(0.2)
    assert cache.get("k") is None
    assert cache.count("c", 1, 10) == 1, "an expired counter starts again"
    assert cache.add("k", 2, 10) is True


def test_memcached_ttl_is_real(memcached, connect):
    cache = connect(memcached.spec)
    cache.set(cache_key("test", "short"), "v", 1)
    assert cache.get(cache_key("test", "short")) == "v"
    import time

    time.sleep(2.1)  # memcached's own clock: TTLs in whole seconds
    assert cache.get(cache_key("test", "short")) is None


def test_a_value_that_is_not_ours_is_a_miss(memcached, connect):
    from pymemcache.client.base import Client

    raw = Client(("127.0.0.1", memcached.port))
    key = cache_key("test", "foreign")
    raw.set(key, b"\x80\x04K\x01.", flags=0)  # a pickle: never loaded
    raw.set(key + "2", b"{not json", flags=1)
    raw.close()
    cache = connect(memcached.spec)
    assert cache.get(key) is None and cache.get(key + "2") is None


def test_open_cache_reads_the_setting(memcached):
    opened = open_cache(f" {memcached.spec} ")
    assert isinstance(opened, MemcachedCache) and opened.healthy()
    opened.close()


def test_no_cache_keeps_nothing_and_cannot_count():
    cache = open_cache("")
    assert isinstance(cache, NullCache)
    cache.set("k", 1, 10)
    assert cache.get("k") is None and cache.get_many(["k"]) == {}
    assert cache.add("k", 1, 10) is False
    assert cache.count("k", 1, 10) is None, "callers then count in process"
    assert cache.healthy()


def test_keys_have_the_prefix_and_secret_long_or_odd_parts_are_hashed():
    assert cache_key("gen:user", "u1") == f"{PREFIX}gen:user:u1"
    for key in (cache_key("s", "x" * 300), cache_key("s", "a b"), cache_key("s", "é"),
                cache_key("ended", "plain", secret=True)):
        tail = key.split(":")[-1]
        assert key.startswith(PREFIX) and tail.startswith("h") and len(tail) == 65, key
        assert len(key) < 250
    assert cache_key("s", "a b") != cache_key("s", "a_b")
    assert "plain" not in cache_key("ended", "plain", secret=True)


def test_values_are_authenticated_with_the_run_dir_secret(memcached, tmp_path):
    run = tmp_path / "run"
    first, second = shared_cache(memcached.spec, run), shared_cache(memcached.spec, run)
    elsewhere = shared_cache(memcached.spec, tmp_path / "other")
    unkeyed = open_cache(memcached.spec)
    try:
        assert (run / "flask_secret").stat().st_mode & 0o777 == 0o600
        first.set("login:answer", {"held": True}, 60)
        assert second.get("login:answer") == {"held": True}, "one secret per run dir"
        assert elsewhere.get("login:answer") is None and unkeyed.get("login:answer") is None
        unkeyed.set("login:planted", {"held": True}, 60)
        elsewhere.set("login:planted2", {"held": True}, 60)
        assert first.get_many(["login:planted", "login:planted2"]) == {}
        assert first.count("login:n", 2, 60) == 2 and unkeyed.count("login:n", 1, 60) == 3, \
            "counters are plain digits (incr needs them)"
    finally:
        for cache in (first, second, elsewhere, unkeyed):
            cache.close()


def test_a_malformed_setting_stops_before_anything_is_made(tmp_path):
    with pytest.raises(ValueError, match="LOGIN_MEMCACHED"):
        shared_cache("host:port", tmp_path / "run")
    assert not (tmp_path / "run").exists()
    assert isinstance(shared_cache("", tmp_path / "run"), NullCache)
