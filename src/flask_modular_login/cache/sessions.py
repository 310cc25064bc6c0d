"""Tombstones of ended sessions, so that renewing an ended session needs no database.

A session that ended never lives again (revocation is monotonic, session ids
are never reused), so a tombstone is never wrong and is written with ``set``:
by the use case that ended the session, after the change committed, and by a
renewal the database refused (then with the session's public handle, which the
``renewal_refused`` signal names, so later refusals need no database at all).

Only tombstones are cached, never "live": a renewal of a live session must
check the session and record the new lease (``leases_end``, "last seen") in one
database write transaction anyway (:meth:`~flask_modular_login.store.sessions.
SessionStore.renew`), so a cached live row could save nothing but a read
inside that transaction, and a stale "live" could never be allowed to matter.

A tombstone is kept until the session would have ended anyway, and at most
:data:`TOMBSTONE_TTL` seconds; a renewal that finds none asks the database, as
without a cache.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import Cache, cache_key

__all__ = ["SessionTombstones", "Tombstone", "TOMBSTONE_TTL"]

TOMBSTONE_TTL = 24 * 3600
"""Seconds a tombstone is kept at most."""


@dataclass(frozen=True)
class Tombstone:
    """An ended session; ``handle`` (its public handle, for signals) if known."""

    handle: str | None


class SessionTombstones:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def ended(self, session_id: str) -> Tombstone | None:
        """The tombstone of ``session_id`` if the cache has one (None: ask the database)."""
        value = self.cache.get(_key(session_id))
        if not isinstance(value, dict) or value.get("ended") is not True:
            return None
        handle = value.get("handle")
        return Tombstone(handle if isinstance(handle, str) else None)

    def bury(self, session_id: str, session_end: float, now: float,
             handle: str | None = None) -> None:
        """Record that ``session_id`` ended; kept until ``session_end`` (its absolute end)."""
        ttl = min(TOMBSTONE_TTL, math.ceil(session_end - now))
        if ttl >= 1:
            self.cache.set(_key(session_id), {"ended": True, "handle": handle}, ttl)


def _key(session_id: str) -> str:
    return cache_key("ended", session_id, secret=True)  # never a session id in a key
