"""The in-memory set of revoked sessions a client consults on every request.

An event feed (:mod:`.events`) fills it from the event log, locally by polling,
remotely by pushes over the channel. If the feed can no longer be trusted, its
``refresh`` raises :class:`RevocationsUnavailable` and checks fail closed.

Each revocation carries ``leases_end``, when the last lease ever issued for that
session runs out (whoever issued it, with whatever lease setting). A client
keeps the revocation until then and forgets it after: a lease presented later
has expired, and its renewal is refused by the store. A client starting up
loads every revocation whose leases may still be live, however old. Nothing
here depends on the client's own ``LOGIN_LEASE_SECONDS``.
"""

from __future__ import annotations

import heapq

from ..core.errors import LoginError


class RevocationsUnavailable(LoginError, RuntimeError):
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
