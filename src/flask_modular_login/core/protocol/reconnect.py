"""How a remote client reconnects, and when it may trust what it caches again.

* :func:`backoff`: wait before each reconnect attempt (exponential, full jitter).
* :class:`CatchUp`: the order in which a client applies events across
  reconnects. After every welcome the client first asks for every event after
  its cursor (``events``), page by page; until the last page arrives its caches
  are *not* trusted and pushed events are not applied (the pages bring them, in
  order). A client may trust its caches only while ``catch_up.live`` and
  ``connection.fresh(now)``.

::

    disconnected --connected()--> catching_up --page() with nothing more--> live
    live --heartbeat() ahead of the cursor--> catching_up
    any --disconnected()--> disconnected
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from ..events import Event
from .errors import UsageError
from .messages import MAX_EVENTS_LIMIT, Events, EventsResult

__all__ = ["BACKOFF_BASE_SECONDS", "BACKOFF_CAP_SECONDS", "backoff", "CatchUp", "FeedState"]

BACKOFF_BASE_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 30.0


def backoff(attempt: int, rng: Callable[[], float]) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (0: the first after a drop).

    A uniform draw from ``[0, min(30, 0.1 * 2**attempt))`` ("full jitter"), so
    clients that lost the service together do not return together. ``rng``
    returns a float in ``[0, 1)`` (``random.random``). Start again from 0 after
    a welcome.
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
        raise ValueError("attempt is an integer >= 0")
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** min(attempt, 64))
    return ceiling * rng()


class FeedState(enum.Enum):
    DISCONNECTED = "disconnected"
    CATCHING_UP = "catching_up"
    LIVE = "live"


class CatchUp:
    """Which events a remote client applies, and when its caches may be trusted.

    ``cursor``: the last event applied (0: none yet; the first catch-up then
    brings every revocation whose leases may still be live). Feed it what the
    connection yields; apply exactly the events it hands back, in order.
    """

    def __init__(self, cursor: int = 0, page_size: int = MAX_EVENTS_LIMIT) -> None:
        self.cursor = cursor
        self.state = FeedState.DISCONNECTED
        self._page_size = page_size
        self._wanted = cursor
        self._asking = False
        self.rewound = False
        """Set by :meth:`connected` when the service's log went back: see there."""

    @property
    def live(self) -> bool:
        """Caught up on an open connection: caches may be trusted (if the channel is fresh)."""
        return self.state is FeedState.LIVE

    def connected(self, welcome_cursor: int) -> Events:
        """After a welcome: the first request to send. Caches are untrusted until caught up.

        A welcome cursor below ours means the service's log went back (restored
        from a backup): ``rewound`` is set and the catch-up starts over from 0;
        the caller forgets every cached group answer (and rewinds any cursor of
        its own), keeping the revocations it holds.
        """
        self.state = FeedState.CATCHING_UP
        self.rewound = welcome_cursor < self.cursor
        if self.rewound:
            self.cursor = self._wanted = 0
        self._wanted = max(self._wanted, welcome_cursor)
        return self._ask()

    def page(self, result: EventsResult) -> tuple[tuple[Event, ...], Events | None]:
        """The events of an answer to apply (in order), and the next request, if any.

        When it returns no next request the client is live again.
        """
        if not self._asking:
            raise UsageError("no events request is waiting for this answer")
        new = tuple(event for event in result.events if event.cursor > self.cursor)
        self.cursor = max(self.cursor, result.cursor, *(event.cursor for event in new))
        if result.more or self._wanted > self.cursor:
            return new, self._ask()
        self._asking, self.state = False, FeedState.LIVE
        return new, None

    def expired(self) -> Events:
        """The answer was error ``cursor_expired``: forget every cached group answer, then
        send the request returned (the events the service still holds)."""
        if not self._asking:
            raise UsageError("no events request is waiting for this answer")
        return Events(after=0, limit=self._page_size)

    def pushed(self, event: Event) -> bool:
        """Whether to apply a pushed event now (while catching up, a page will bring it)."""
        if self.state is not FeedState.LIVE:
            self._wanted = max(self._wanted, event.cursor)
            return False
        if event.cursor <= self.cursor:
            return False
        self.cursor = event.cursor
        return True

    def heartbeat(self, cursor: int) -> Events | None:
        """A request to send if the server has pushed past our cursor (we missed something)."""
        self._wanted = max(self._wanted, cursor)
        if self.state is not FeedState.LIVE or cursor <= self.cursor:
            return None
        self.state = FeedState.CATCHING_UP
        return self._ask()

    def disconnected(self) -> None:
        """The connection closed: caches untrusted until the next catch-up ends."""
        self.state, self._asking = FeedState.DISCONNECTED, False

    def _ask(self) -> Events:
        self._asking = True
        return Events(after=self.cursor, limit=self._page_size)
