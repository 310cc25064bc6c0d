"""The in-memory set of revoked sessions, and how local clients keep it fresh.

Local clients read the revocations table after their cursor at most once every
``poll_seconds`` (lazily, on a request), never once per request: a revocation
reaches them within that bound. If the store cannot be read for a while (see
:mod:`.polling`) the set can no longer be trusted and :meth:`RevocationPoller.refresh`
raises :class:`RevocationsUnavailable` (fail closed).

Each revocation carries ``leases_end``, when the last lease ever issued for that
session runs out (whoever issued it, with whatever lease setting). A client
keeps the revocation until then and forgets it after: a lease presented later
has expired, and its renewal is refused by the store. A client starting up
loads every revocation whose leases may still be live, however old. Nothing
here depends on the client's own ``LOGIN_LEASE_SECONDS``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from ..store import Store
from .polling import Poller


class RevocationsUnavailable(RuntimeError):
    """The revocation set is too old to trust."""

    code = "revocations_unavailable"


class RevocationSet:
    """Revoked session ids with the time their last lease runs out, forgotten after it."""

    def __init__(self) -> None:
        self._revoked: dict[str, int] = {}  # session id -> leases_end
        self._ends: list[tuple[int, str]] = []  # heap of (leases_end, session id)
        self.cursor = 0

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._revoked

    def __len__(self) -> int:
        return len(self._revoked)

    def add(self, session_id: str, leases_end: int, cursor: int | None = None) -> None:
        if leases_end > self._revoked.get(session_id, leases_end - 1):
            self._revoked[session_id] = leases_end
            heapq.heappush(self._ends, (leases_end, session_id))
        if cursor is not None and cursor > self.cursor:
            self.cursor = cursor

    def prune(self, now: float) -> None:
        """Forget the revocations whose leases have all run out at ``now``."""
        while self._ends and self._ends[0][0] <= now:
            end, session_id = heapq.heappop(self._ends)
            if self._revoked.get(session_id) == end:
                del self._revoked[session_id]


class RevocationPoller(Poller):
    """Keeps a :class:`RevocationSet` up to date from the store's revocations table."""

    unavailable = RevocationsUnavailable

    def __init__(self, store: Store, revoked: RevocationSet, poll_seconds: float,
                 clock: Callable[[], float]) -> None:
        self._store = store
        self.revoked = revoked
        now = clock()
        cursor, rows = store.sessions.revocations_live(int(now))
        for row in rows:
            revoked.add(row.session_id, row.leases_end)
        revoked.cursor = cursor
        revoked.prune(now)
        super().__init__(poll_seconds, clock)

    def poll(self, now: float) -> None:
        for row in self._store.sessions.revocations_after(self.revoked.cursor):
            self.revoked.add(row.session_id, row.leases_end, row.cursor)
        self.revoked.prune(now)
