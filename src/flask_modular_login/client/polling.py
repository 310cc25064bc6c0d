"""Lazy, bounded polling: what local clients use to follow a table of the store.

A :class:`Poller` reads new rows at most once every ``interval`` seconds, on the
request that finds the interval over (no thread of its own), never once per
request. A failed read is retried at the next interval; once no read has
succeeded for ``stale_seconds`` (20 intervals, at least 5 s), :meth:`Poller.refresh`
raises the poller's ``unavailable`` error on every call until a read succeeds:
what it holds can no longer be trusted, and the caller must fail closed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Poller:
    """Calls :meth:`poll` at most once every ``interval`` seconds; subclasses implement it."""

    unavailable: type[Exception] = RuntimeError

    def __init__(self, interval: float, clock: Callable[[], float]) -> None:
        self._interval = interval
        self._stale_seconds = max(5.0, 20 * interval)
        self._lock = threading.Lock()
        now = clock()
        self._last_success = now
        self._next_poll = now + interval

    def refresh(self, now: float, force: bool = False) -> None:
        """Poll if due (or ``force``); cheap (one comparison) when not."""
        if now < self._next_poll and not force:
            return
        if not self._lock.acquire(blocking=force):
            return  # another thread is polling right now
        try:
            self._attempt(now)
        finally:
            self._lock.release()

    def poll(self, now: float) -> None:
        """Read and apply what is new; raise on any failure to read."""
        raise NotImplementedError

    def _attempt(self, now: float) -> None:
        try:
            self.poll(now)
        except Exception as error:
            if now - self._last_success > self._stale_seconds:
                raise self.unavailable(f"{type(self).__name__}: cannot read the store") from error
            self._next_poll = now + self._interval
            return
        self._last_success = now
        self._next_poll = now + self._interval
