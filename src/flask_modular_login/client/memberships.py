"""``CachedMemberships``: the membership oracle of a client process, in front of the store.

Warm, a check is dict look-ups only; cold (any path of the expression not
cached), it is one indexed query for the missing paths
(:meth:`AccessStore.grants <flask_modular_login.store.access.AccessStore.grants>`).
An answer is kept until the membership that grants it expires, and at most
``max_age`` seconds (a bound for changes no event announces, such as an owner
identity linked to an account later). Changes announced in the event log reach
the cache through the client's event feed (:mod:`.events`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ..core.groups import GroupPath, Held
from .check import MembershipOracle
from .membership_cache import MembershipCache

Found = dict[GroupPath, "GroupPath | None"]


class CachedMemberships:
    """A :class:`~flask_modular_login.core.groups.MembershipOracle` with a cache."""

    def __init__(self, access: MembershipOracle, cache: MembershipCache,
                 clock: Callable[[], float], max_age: float = 60.0) -> None:
        self._access = access
        self._cache = cache
        self._clock = clock
        self.max_age = max_age

    def memberships(self, user_id: str, paths: Sequence[GroupPath]) -> Found:
        return self.answers(user_id, paths)[0]

    def answers(self, user_id: str, paths: Sequence[GroupPath]) -> tuple[Found, float]:
        """:meth:`memberships`, and until when every one of these answers stands."""
        now = self._clock()
        found: Found = {}
        until = math.inf
        missing = []
        for path in paths:
            entry = self._cache.get(user_id, path, now)
            if entry is None:
                missing.append(path)
            else:
                found[path] = entry[0]  # type: ignore[assignment]
                until = min(until, entry[1])
        if missing:
            until = min(until, self._fetch(user_id, missing, now, found))
        return found, until

    def _fetch(self, user_id: str, paths: list[GroupPath], now: float, found: Found) -> float:
        """Query ``paths``, fill ``found`` and the cache; the earliest end among them."""
        epoch = self._cache.epoch
        until = math.inf
        for path, held in self._access.grants(user_id, paths, now).items():
            found[path] = held.group if held else None
            ends = self._until(held, now)
            self._cache.put(user_id, path, found[path], ends, epoch)
            until = min(until, ends)
        return until

    def _until(self, held: Held | None, now: float) -> float:
        limit = now + self.max_age
        if held is None or held.until is None:
            return limit
        return min(held.until, limit)
