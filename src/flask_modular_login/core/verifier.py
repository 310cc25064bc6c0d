"""Per-process lease verification with a cache: a second request with the same
cookie costs one dict look-up, no signature check, no I/O.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from . import leases
from .leases import KeyRing, Lease

CACHE_SIZE = 10_000
KEY_RELOAD_SECONDS = 5.0


class LeaseVerifier:
    """Verifies lease tokens against a key ring that it reloads when it meets a new key id.

    :meth:`lease` returns the genuine lease of a token whatever its expiry (the
    caller compares ``expires_at`` with its clock) or raises :class:`LeaseError`.
    """

    def __init__(self, load_keys: Callable[[], KeyRing],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._load_keys = load_keys
        self._keys = load_keys()
        self._clock = clock
        self._reloaded_at = clock()
        self._cache: dict[str, Lease] = {}
        self._lock = threading.Lock()

    def lease(self, token: str) -> Lease:
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        lease = leases.verify_signature(token, self._current_keys(token))
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[token] = lease
        return lease

    def cached(self, token: str, now: float) -> bool:
        """Whether ``token`` was verified before and its lease has not run out at ``now``."""
        lease = self._cache.get(token)
        return lease is not None and now < lease.expires_at

    @property
    def keys(self) -> KeyRing:
        return self._keys

    def forget(self, token: str) -> None:
        self._cache.pop(token, None)

    def _current_keys(self, token: str) -> KeyRing:
        kid = leases.unverified_kid(token)
        if kid is not None and kid not in self._keys:
            self._maybe_reload()
        return self._keys

    def _maybe_reload(self) -> None:
        now = self._clock()
        with self._lock:
            if now - self._reloaded_at < KEY_RELOAD_SECONDS:
                return
            self._reloaded_at = now
            self._keys = self._load_keys()
