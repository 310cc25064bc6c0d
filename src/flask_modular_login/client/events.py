"""How a client follows the event log: revocations, and membership changes for its caches.

:class:`EventFeed` is the port: it holds the :class:`~.revocations.RevocationSet`
the request check consults, applies events in cursor order (:meth:`EventFeed.apply`)
and hands membership changes to its listeners (the access cache forgets that
user). Two adapters fill it:

* :class:`StoreEventFeed` (local clients, same database): reads the log after its
  cursor at most once every ``LOGIN_REVOCATION_POLL_SECONDS``, on the request
  that finds the interval over (:mod:`.polling`); if the log cannot be read for
  a while, :meth:`~EventFeed.refresh` raises :class:`EventsUnavailable` and
  checks fail closed. A push over the channel's unix socket may wake it sooner.
* the channel feed (remote clients, :mod:`flask_modular_login.channel.client`):
  events are pushed; after a reconnect it asks for every event after its cursor
  before its caches are trusted again.

Both load, when they start, every revocation whose leases may still be live.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ..core.events import Event
from .polling import Poller
from .revocations import RevocationSet, RevocationsUnavailable

if TYPE_CHECKING:  # the store (SQLAlchemy) loads with the first local check, not on import
    from ..store.events import EventLog

Listener = Callable[[Event], None]

EventsUnavailable = RevocationsUnavailable
"""Raised by :meth:`EventFeed.refresh` when what the feed holds is too old to trust."""


class EventFeed:
    """Applies events to the revocation set and the listeners; subclasses fetch them."""

    def __init__(self) -> None:
        self.revoked = RevocationSet()
        self._listeners: list[Listener] = []
        self._apply_lock = threading.Lock()

    @property
    def cursor(self) -> int:
        return self.revoked.cursor

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every membership event applied from now on."""
        self._listeners.append(listener)

    def apply(self, events: Iterable[Event], now: float) -> None:
        """Apply ``events`` (oldest first); ones at or before the cursor are skipped."""
        with self._apply_lock:
            for event in events:
                if event.cursor <= self.revoked.cursor:
                    continue
                if event.revokes:
                    self.revoked.add(event.session_id or "", event.leases_end or 0)
                elif event.changes_memberships:
                    for listener in self._listeners:
                        listener(event)
                self.revoked.cursor = event.cursor
            self.revoked.prune(now)

    def load_live(self, cursor: int, revocations: Iterable[Event], now: float) -> None:
        """Start from ``cursor`` knowing ``revocations`` (every one whose leases may live)."""
        with self._apply_lock:
            for event in revocations:
                self.revoked.add(event.session_id or "", event.leases_end or 0)
            self.revoked.cursor = max(self.revoked.cursor, cursor)
            self.revoked.prune(now)

    def refresh(self, now: float, force: bool = False) -> None:
        """Bring the feed up to date if due (or ``force``); raise
        :class:`EventsUnavailable` if it can no longer be trusted."""
        raise NotImplementedError


class StoreEventFeed(EventFeed):
    """The local adapter: polls the store's event log (see the module docstring)."""

    def __init__(self, log: EventLog, poll_seconds: float, clock: Callable[[], float]) -> None:
        from ..store.events import BATCH

        super().__init__()
        self._log = log
        self._batch = BATCH
        now = clock()
        self.load_live(*log.live_revocations(now), now)
        self._poller = _LogPoller(self, poll_seconds, clock)

    def refresh(self, now: float, force: bool = False) -> None:
        self._poller.refresh(now, force)

    def poll(self, now: float) -> None:
        """Read everything after the cursor, ``store.events.BATCH`` events per query."""
        while True:
            events = self._log.after(self.cursor, self._batch)
            self.apply(events, now)
            if len(events) < self._batch:
                return


class _LogPoller(Poller):
    unavailable = EventsUnavailable

    def __init__(self, feed: StoreEventFeed, interval: float,
                 clock: Callable[[], float]) -> None:
        self._feed = feed
        super().__init__(interval, clock)

    def poll(self, now: float) -> None:
        self._feed.poll(now)
