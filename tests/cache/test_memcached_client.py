"""The memcached client: servers from the setting, failures as misses, dead servers retried."""

from __future__ import annotations

import time

import pytest

from flask_modular_login.cache import cache_key
from flask_modular_login.cache.memcached import parse_servers
from tests.support.servers import free_port


def test_parse_servers():
    assert parse_servers("a:1, b:11211,/run/m.sock") == [("a", 1), ("b", 11211), "/run/m.sock"]
    assert parse_servers("cache") == [("cache", 11211)]
    assert parse_servers("[::1]:11311,[::1]") == [("::1", 11311), ("::1", 11211)]
    for bad in ("", " , ", "a:b", "a:0", "a:70000", "::1:11211", ":11211"):
        with pytest.raises(ValueError, match="LOGIN_MEMCACHED"):
            parse_servers(bad)


def test_nothing_listening_is_a_miss_never_an_error(connect):
    cache = connect(f"127.0.0.1:{free_port()}", timeout=0.2)
    started = time.monotonic()
    assert cache.get("login:x") is None and cache.get_many(["login:x"]) == {}
    cache.set("login:x", 1, 10)
    assert cache.add("login:x", 1, 10) is False
    assert cache.count("login:x", 1, 10) is None
    cache.delete("login:x")
    assert not cache.healthy()
    assert time.monotonic() - started < 2, "short timeouts, and a failed server is skipped"


def test_two_servers_one_dead_keys_go_to_the_live_one(memcached, connect):
    dead = f"127.0.0.1:{free_port()}"
    cache = connect(f"{memcached.spec},{dead}", retry_seconds=0.05, dead_seconds=60)
    keys = [cache_key("test", n) for n in range(40)]
    for _ in range(3):  # fail, retry, and then the dead server is taken out of the ring
        for key in keys:
            cache.set(key, key, 60)
        time.sleep(0.06)
    for key in keys:
        cache.set(key, key, 60)
    assert cache.get_many(keys) == {key: key for key in keys}, "all on the live server"
    assert memcached.stats()["curr_items"] == len(keys)
    assert [cache.count(cache_key("n", n), 1, 60) for n in range(5)] == [1] * 5
    assert not cache.healthy(), "healthy means every server answers"


def test_a_killed_server_misses_then_is_used_again_after_it_restarts(memcached, connect):
    cache = connect(memcached.spec, retry_seconds=0.05, dead_seconds=0.3)
    key = cache_key("test", "back")
    cache.set(key, "v", 60)
    assert cache.get(key) == "v"
    memcached.kill()
    for _ in range(20):  # every call a miss, none an error, none slow
        assert cache.get(key) is None and cache.count(key, 1, 60) is None
        time.sleep(0.02)
    memcached.start()
    deadline = time.monotonic() + 5
    while cache.add(key, "again", 60) is False and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.get(key) == "again" and memcached.stats()["get_hits"] >= 1
    assert cache.healthy()


def test_a_forked_process_opens_its_own_connection(memcached, connect, monkeypatch):
    cache = connect(memcached.spec)
    cache.set("login:k", 1, 60)
    first = cache._client
    monkeypatch.setattr("os.getpid", lambda: -42)
    assert cache.get("login:k") == 1
    assert cache._client is not first
