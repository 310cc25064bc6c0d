"""Where a client keeps what it learnt about a user's access, each answer with its end.

Two kinds of answers live here, both per user: for a group path, the group that
grants it (or None); for ``(DECISION, expression)``, the
:class:`~flask_modular_login.core.groups.Evaluation` of that expression. An
entry ``(value, until)`` is good while ``now < until``.

:class:`MembershipCache` is the small interface a shared cache (memcached) can
implement later; :class:`InProcessMembershipCache` is the default, one dict per
process. ``epoch`` guards against a race: a reader notes the epoch before it
reads the answers and passes it to :meth:`~MembershipCache.put`, which drops
the value if an invalidation happened meanwhile (the value may predate it).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Final, Protocol

Entry = tuple[object, float]
"""``(value, until)``."""

DECISION: Final = "decision"
"""First item of the key of a cached decision: ``(DECISION, expression)``."""


class MembershipCache(Protocol):
    @property
    def epoch(self) -> int:
        """Changes on every invalidation."""
        ...

    def get(self, user_id: str, key: Hashable, now: float) -> Entry | None:
        """The current ``(value, until)`` for ``user_id`` and ``key``, or None."""
        ...

    def put(self, user_id: str, key: Hashable, value: object, until: float,
            epoch: int) -> None:
        """Keep ``value`` until ``until``; it was read while the cache was at ``epoch``."""
        ...

    def forget(self, user_id: str) -> None:
        """Drop every answer about ``user_id`` (their memberships changed)."""
        ...

    def clear(self) -> None:
        """Drop everything."""
        ...


class InProcessMembershipCache:
    """A :class:`MembershipCache` in a dict of dicts; at most ``max_entries`` answers.

    Past the limit, the users cached longest ago are dropped first. Reads take no
    lock (two dict look-ups); writes take one.
    """

    def __init__(self, max_entries: int = 200_000) -> None:
        self._users: dict[str, dict[Hashable, Entry]] = {}
        self._size = 0
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self.epoch = 0

    def __len__(self) -> int:
        return self._size

    def get(self, user_id: str, key: Hashable, now: float) -> Entry | None:
        entries = self._users.get(user_id)
        entry = entries.get(key) if entries is not None else None
        return entry if entry is not None and now < entry[1] else None

    def put(self, user_id: str, key: Hashable, value: object, until: float,
            epoch: int) -> None:
        with self._lock:
            if epoch != self.epoch:
                return
            if self._size >= self._max_entries:
                self._make_room()
            entries = self._users.setdefault(user_id, {})
            self._size += key not in entries
            entries[key] = (value, until)

    def forget(self, user_id: str) -> None:
        with self._lock:
            self.epoch += 1
            self._size -= len(self._users.pop(user_id, ()))

    def clear(self) -> None:
        with self._lock:
            self.epoch += 1
            self._users.clear()
            self._size = 0

    def _make_room(self) -> None:
        """Drop the users cached longest ago until there is room for one more answer."""
        while self._users and self._size >= self._max_entries:
            self._size -= len(self._users.pop(next(iter(self._users))))
