"""The in-memory set of revoked sessions, and how local clients keep it fresh.

Local clients read the revocations table after their cursor at most once every
``poll_seconds`` (lazily, on a request), never once per request: a revocation
reaches them within that bound. If the store cannot be read for ``stale_seconds``
the set can no longer be trusted and :meth:`RevocationPoller.refresh` raises
:class:`RevocationsUnavailable` (fail closed).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..store import Store


class RevocationsUnavailable(RuntimeError):
    """The revocation set is too old to trust."""

    code = "revocations_unavailable"


class RevocationSet:
    """Revoked session ids with the time they were revoked, pruned once leases ran out."""

    def __init__(self) -> None:
        self._revoked: dict[str, int] = {}
        self.cursor = 0

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._revoked

    def __len__(self) -> int:
        return len(self._revoked)

    def add(self, session_id: str, revoked_at: int, cursor: int | None = None) -> None:
        self._revoked[session_id] = revoked_at
        if cursor is not None and cursor > self.cursor:
            self.cursor = cursor

    def prune(self, before: int) -> None:
        """Forget revocations made before ``before``: every lease they could stop has ended."""
        self._revoked = {sid: at for sid, at in self._revoked.items() if at >= before}


class RevocationPoller:
    """Keeps a :class:`RevocationSet` up to date from the store's revocations table."""

    def __init__(self, store: Store, revoked: RevocationSet, lease_seconds: int,
                 poll_seconds: float, clock: Callable[[], float]) -> None:
        self._store = store
        self.revoked = revoked
        self._lease_seconds = lease_seconds
        self._poll_seconds = poll_seconds
        self._stale_seconds = max(5.0, 20 * poll_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        now = clock()
        self._load(now)
        self._next_poll = now + poll_seconds

    def refresh(self, now: float, force: bool = False) -> None:
        """Poll if due (or ``force``); cheap (one comparison) when not."""
        if now < self._next_poll and not force:
            return
        if not self._lock.acquire(blocking=force):
            return  # another thread is polling right now
        try:
            self._poll(now)
        finally:
            self._lock.release()

    def _poll(self, now: float) -> None:
        try:
            rows = self._store.sessions.revocations_after(self.revoked.cursor)
        except Exception as error:
            if now - self._last_success > self._stale_seconds:
                raise RevocationsUnavailable("cannot read revocations") from error
            self._next_poll = now + self._poll_seconds
            return
        for row in rows:
            self.revoked.add(row.session_id, row.created_at, row.cursor)
        if now - self._pruned_at > self._lease_seconds:
            self.revoked.prune(int(now) - self._lease_seconds)
            self._pruned_at = now
        self._last_success = now
        self._next_poll = now + self._poll_seconds

    def _load(self, now: float) -> None:
        cursor, rows = self._store.sessions.revocations_since(int(now) - self._lease_seconds)
        for row in rows:
            self.revoked.add(row.session_id, row.created_at)
        self.revoked.cursor = cursor
        self._last_success = self._pruned_at = now
