"""Rate limiters: at most ``limit`` hits per key in a ``window`` of seconds.

:class:`RateLimiter` counts in this process: a sliding-window log per key. Each
worker of a uwsgi deployment (and each login-service host) counts on its own,
so alone it lets through ``limit`` times the number of processes.

:class:`SharedRateLimiter` counts in the shared cache (memcached, ``LOGIN_MEMCACHED``),
so every process and host of the service counts together: one counter per key
and fixed window (``add`` + ``incr``, atomic in memcached; the window number is
part of the key, and the counter expires with its window). Concurrent hits each
get their own count, so at most ``limit`` pass per window, whatever the number
of processes; across a window boundary a key may get up to ``2 * limit`` in a
short time (fixed windows). While the cache cannot count (down, or not
configured), the same calls fall back to an in-process :class:`RateLimiter`:
limited per process as before, never unlimited; when it answers again, the
shared counts are used again. Guessing a short invite code (about 40 bits) is
hopeless either way.

Memory of the in-process limiter is bounded: keys whose hits all left the
window are swept, and when more than ``max_keys`` keys are live at once, new
keys are refused (fail closed) until old ones age out. memcached bounds its own.

::

    limiter = RateLimiter(limit=10, window=600, clock=time.monotonic)
    shared = SharedRateLimiter(cache, "user", limit=10, window=600)   # same interface
    wait = limiter.hit(("user", user_id))   # None: allowed (and counted)
    if wait is not None: ...                # refused: retry in ``wait`` seconds
    limiter.wait(key)                       # the same answer, counting nothing

:func:`client_key` is the key for a client address: IPv6 clients count per /64,
since one host commonly holds a whole /64 and could otherwise fill the table.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Protocol

from ...cache import Cache, cache_key


class Limiter(Protocol):
    def hit(self, key: Hashable) -> float | None: ...

    def wait(self, key: Hashable) -> float | None: ...


class RateLimiter:
    """A sliding-window log per key; thread-safe. ``clock`` is a seam for tests."""

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        if limit < 1 or window <= 0 or max_keys < 1:
            raise ValueError("limit and max_keys must be >= 1, window > 0")
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: Hashable) -> float | None:
        """Count one hit for ``key``: None if allowed, else the seconds until the next is."""
        return self._check(key, count=True)

    def wait(self, key: Hashable) -> float | None:
        """What :meth:`hit` would answer for ``key`` now, without counting or adding a key."""
        return self._check(key, count=False)

    def _check(self, key: Hashable, count: bool) -> float | None:
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._sweep(now)
                if len(self._hits) >= self.max_keys:
                    return self.window
                if not count:
                    return None
                hits = self._hits[key] = deque()
            self._forget(hits, now)
            if len(hits) >= self.limit:
                return max(hits[0] + self.window - now, 0.0)
            if count:
                hits.append(now)
            return None

    def _forget(self, hits: deque[float], now: float) -> None:
        while hits and hits[0] <= now - self.window:
            hits.popleft()

    def _sweep(self, now: float) -> None:
        for key in list(self._hits):
            self._forget(self._hits[key], now)
            if not self._hits[key]:
                del self._hits[key]


class SharedRateLimiter:
    """At most ``limit`` hits per key in each fixed ``window`` (aligned on ``clock``, which
    must be wall-clock time shared by the hosts), counted in ``cache`` by every process;
    counted by ``fallback`` (in process) while the cache cannot count. ``name`` keeps the
    counters of different limiters apart."""

    def __init__(self, cache: Cache, name: str, limit: int, window: float, *,
                 clock: Callable[[], float] = time.time,
                 fallback: RateLimiter | None = None) -> None:
        if limit < 1 or window < 1:
            raise ValueError("limit must be >= 1, window >= 1 s")
        self.cache = cache
        self.name = name
        self.limit = limit
        self.window = window
        self._clock = clock
        self.fallback = fallback or RateLimiter(limit, window, clock=clock)

    def hit(self, key: Hashable) -> float | None:
        """Count one hit for ``key``: None if allowed, else the seconds until the next is."""
        return self._check(key, 1)

    def wait(self, key: Hashable) -> float | None:
        """What :meth:`hit` would answer for ``key`` now, without counting."""
        return self._check(key, 0)

    def _check(self, key: Hashable, delta: int) -> float | None:
        now = self._clock()
        number = math.floor(now / self.window)
        ends = (number + 1) * self.window
        counter = cache_key("rate", self.name, number, key)
        counted = self.cache.count(counter, delta, math.ceil(ends - now) + 1)
        if counted is None:  # the cache cannot count: this process counts alone
            return self.fallback.hit(key) if delta else self.fallback.wait(key)
        if counted > self.limit or (not delta and counted >= self.limit):
            return max(ends - now, 0.0)
        return None


def retry_header(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


def client_key(address: str | None) -> str:
    """The rate-limit key of a client address: IPv4 as is, IPv6 by its /64 prefix."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "?"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
