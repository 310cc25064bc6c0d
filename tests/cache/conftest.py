"""Fixtures of the cache tests: real memcached servers, and caches on them closed afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flask_modular_login.cache.memcached import MemcachedCache
from tests.support.memcached import memcached, memcached_socket  # noqa: F401 (fixtures)


@pytest.fixture
def connect() -> Iterator[Callable[..., MemcachedCache]]:
    """``connect(spec, **options)``: a :class:`MemcachedCache`, closed after the test."""
    opened: list[MemcachedCache] = []

    def connect(spec: str, **options: Any) -> MemcachedCache:
        cache = MemcachedCache.from_setting(spec, **options)
        opened.append(cache)
        return cache

    yield connect
    for cache in opened:
        cache.close()
