"""A small in-process rate limiter: at most ``limit`` hits per key in any ``window`` seconds.

Per process: counts are not shared between processes. Each worker of a uwsgi
deployment (and each login-service host) counts on its own, so the effective
limit is ``limit`` times the number of processes. That is enough to make
guessing a short invite code (about 40 bits) hopeless; a shared store for the
counters (memcached) is planned, and until then a deployment that needs one
global count puts a shared limiter (nginx ``limit_req``) in front.

Memory is bounded: keys whose hits all left the window are swept, and when more
than ``max_keys`` keys are live at once, new keys are refused (fail closed)
until old ones age out.

::

    limiter = RateLimiter(limit=10, window=600, clock=time.monotonic)
    wait = limiter.hit(("user", user_id))   # None: allowed (and counted)
    if wait is not None: ...                # refused: retry in ``wait`` seconds
    limiter.wait(key)                       # the same answer, counting nothing, adding no key

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
