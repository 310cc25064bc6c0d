"""A small shared cache: memcached in deployment, nothing (or a dict, in tests) otherwise.

The cache is never the source of truth. Every reader can go to the database
instead, so every failure is a miss: :class:`Cache` methods never raise, and a
cache that is down makes the service slower, never wrong. What is kept, for how
long, and how it is invalidated is decided by its users (see
``docs/deployment.md``, "memcached"):

==============================  =========================================================
user                            what it keeps
==============================  =========================================================
:mod:`.memberships`             membership answers per user, under a generation
                                (:mod:`.generations`) bumped after every change
:mod:`.sessions`                tombstones of ended sessions (monotonic: set, never undone)
``server.invitations.ratelimit`` short-code attempt counters per window
``server.platforms.oidc``       discovery documents and key sets of OpenID issuers
==============================  =========================================================

Values are JSON (never pickle), authenticated by an HMAC with a secret kept in
``run/`` (:func:`shared_cache`), so that whoever else reaches memcached cannot
plant an answer. Keys are built by :func:`cache_key`: one prefix (``login:``),
and a hash in place of parts that are long, unusual or secret.

:func:`shared_cache` reads ``LOGIN_MEMCACHED``: unset gives :class:`NullCache`
(every lookup misses; counters report "unavailable", so callers count in
process). :class:`MemoryCache` is an in-process double with the same
semantics, clock injectable, for tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from ..keystore import run_secret

__all__ = ["Cache", "MemoryCache", "NullCache", "cache_key", "open_cache", "shared_cache",
           "PREFIX"]

PREFIX = "login:"
MAX_KEY = 200  # memcached allows 250 bytes
_PLAIN = re.compile(r"[A-Za-z0-9_.:/@+=-]+", re.ASCII)


class Cache(Protocol):
    """What the login service asks of a shared cache. No method raises: failures miss."""

    def get(self, key: str) -> Any:
        """The value under ``key``, or None (missing, expired, or the cache is down)."""
        ...

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The values found, by key (a key missing from the answer is a miss)."""
        ...

    def set(self, key: str, value: Any, ttl: int) -> None:
        """Store ``value`` (JSON-able) for ``ttl`` seconds (at least 1)."""
        ...

    def add(self, key: str, value: Any, ttl: int) -> bool:
        """Store ``value`` only if ``key`` holds nothing; whether it was stored."""
        ...

    def count(self, key: str, delta: int, ttl: int) -> int | None:
        """Add ``delta`` (>= 0) to the counter ``key`` (created at 0, living ``ttl`` seconds
        from its creation) and return the new value; None when the cache cannot count."""
        ...

    def delete(self, key: str) -> None:
        ...

    def healthy(self) -> bool:
        """Whether the cache answers now (a cache that is not configured is healthy)."""
        ...


def cache_key(kind: str, *parts: object, secret: bool = False) -> str:
    """``login:<kind>:<part>:...``; the parts are replaced by their SHA-256 when ``secret``,
    when long, or when they hold anything but plain ASCII (memcached keys are bytes
    without spaces or control characters, at most 250 of them)."""
    text = ":".join(str(part) for part in parts)
    if secret or len(text) > MAX_KEY - len(PREFIX) - len(kind) - 1 or not _PLAIN.fullmatch(
            text or "-"):
        text = "h" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{PREFIX}{kind}:{text}"


class NullCache:
    """No cache (``LOGIN_MEMCACHED`` unset): every lookup misses, nothing is kept."""

    def get(self, key: str) -> Any:
        return None

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        return {}

    def set(self, key: str, value: Any, ttl: int) -> None:
        return None

    def add(self, key: str, value: Any, ttl: int) -> bool:
        return False

    def count(self, key: str, delta: int, ttl: int) -> int | None:
        return None

    def delete(self, key: str) -> None:
        return None

    def healthy(self) -> bool:
        return True


class MemoryCache:
    """An in-process cache with memcached's semantics (TTLs by ``clock``; thread-safe).

    For tests and single-process tools: values are copied through JSON as
    memcached would, so a caller never shares a mutable object with the cache.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        return self.get_many([key]).get(key)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        now = self._clock()
        with self._lock:
            found = {key: self._entries.get(key) for key in keys}
        return {key: _loads(entry[1]) for key, entry in found.items()
                if entry is not None and entry[0] > now}

    def set(self, key: str, value: Any, ttl: int) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + max(ttl, 1), _dumps(value))

    def add(self, key: str, value: Any, ttl: int) -> bool:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > self._clock():
                return False
            self._entries[key] = (self._clock() + max(ttl, 1), _dumps(value))
            return True

    def count(self, key: str, delta: int, ttl: int) -> int | None:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= now:
                entry = (now + max(ttl, 1), "0")
            value = int(entry[1]) + delta
            self._entries[key] = (entry[0], str(value))
            return value

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def healthy(self) -> bool:
        return True


def open_cache(servers: str | None, **options: Any) -> Cache:
    """The cache ``LOGIN_MEMCACHED`` names (``host:port,host:port`` or a unix socket path);
    :class:`NullCache` when empty. ``options`` go to :class:`.memcached.MemcachedCache`.
    Raises ``ValueError`` naming the setting when it is malformed."""
    if not servers or not servers.strip():
        return NullCache()
    from .memcached import MemcachedCache  # pymemcache is needed only when configured

    return MemcachedCache.from_setting(servers, **options)


def shared_cache(servers: str | None, run_dir: Path) -> Cache:
    """:func:`open_cache` for the login service: values authenticated with a key derived
    from the secret in ``<run_dir>/flask_secret`` (:func:`..keystore.run_secret`; every
    host holds the same file, as it holds the same keys)."""
    if not servers or not servers.strip():
        return NullCache()
    from .memcached import parse_servers

    parse_servers(servers)  # a malformed setting stops here, before anything is made
    secret = hmac.new(run_secret(run_dir), b"flask_modular_login memcached values",
                      hashlib.sha256).digest()
    return open_cache(servers, secret=secret)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _loads(text: str) -> Any:
    return json.loads(text)
