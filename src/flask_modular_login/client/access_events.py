"""How a local client learns that memberships changed: the ``access_events`` table.

Every change of a membership in the store (added, removed, joined) appends an
event. :class:`AccessEventPoller` reads the events after its cursor at most once
per poll interval (``LOGIN_REVOCATION_POLL_SECONDS``, the same bound as
revocations) and makes the cache forget what it holds about each user named.
So a change made by another process is seen within one interval; if the events
cannot be read for a while, :meth:`~AccessEventPoller.refresh` raises
:class:`AccessEventsUnavailable` and checks fail closed (see :mod:`.polling`).
"""

from __future__ import annotations

from collections.abc import Callable

from ..store.access import AccessStore
from .membership_cache import MembershipCache
from .polling import Poller

BATCH = 10_000


class AccessEventsUnavailable(RuntimeError):
    """The cached memberships are too old to trust."""

    code = "access_events_unavailable"


class AccessEventPoller(Poller):
    """Invalidates a :class:`MembershipCache` from the store's access events."""

    unavailable = AccessEventsUnavailable

    def __init__(self, access: AccessStore, cache: MembershipCache, poll_seconds: float,
                 clock: Callable[[], float]) -> None:
        self._access = access
        self._cache = cache
        self.cursor = access.event_cursor()
        super().__init__(poll_seconds, clock)

    def poll(self, now: float) -> None:
        """One query (more only when over :data:`BATCH` events arrived in one interval)."""
        while True:
            events = self._access.events_after(self.cursor, BATCH)
            for event in events:
                self._cache.forget(event.user_id)
                self.cursor = event.cursor
            if len(events) < BATCH:
                return
