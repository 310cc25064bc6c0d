"""The in-memory set of revoked sessions, and how local clients keep it fresh.

Local clients read the revocations table after their cursor at most once every
``poll_seconds`` (lazily, on a request), never once per request: a revocation
reaches them within that bound. If the store cannot be read for a while (see
:mod:`.polling`) the set can no longer be trusted and :meth:`RevocationPoller.refresh`
raises :class:`RevocationsUnavailable` (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable

from ..store import Store
from .polling import Poller


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


class RevocationPoller(Poller):
    """Keeps a :class:`RevocationSet` up to date from the store's revocations table."""

    unavailable = RevocationsUnavailable

    def __init__(self, store: Store, revoked: RevocationSet, lease_seconds: int,
                 poll_seconds: float, clock: Callable[[], float]) -> None:
        self._store = store
        self.revoked = revoked
        self._lease_seconds = lease_seconds
        now = clock()
        cursor, rows = store.sessions.revocations_since(int(now) - lease_seconds)
        for row in rows:
            revoked.add(row.session_id, row.created_at)
        revoked.cursor = cursor
        self._pruned_at = now
        super().__init__(poll_seconds, clock)

    def poll(self, now: float) -> None:
        for row in self._store.sessions.revocations_after(self.revoked.cursor):
            self.revoked.add(row.session_id, row.created_at, row.cursor)
        if now - self._pruned_at > self._lease_seconds:
            self.revoked.prune(int(now) - self._lease_seconds)
            self._pruned_at = now
