"""Membership answers in the shared cache, per user and path, under the user's generation.

:class:`CachedGrants` sits in front of anything with ``grants(user_id, paths,
now)`` (the store's :meth:`~flask_modular_login.store.access.AccessStore.grants`):
it answers the paths it finds cached under the user's current generation
(:mod:`.generations`) and asks the source for the others, in one call, then
caches those. An answer is kept for :data:`ANSWER_TTL` seconds at most, and
never past its own end (``Held.until``: a membership that expires is never
answered from the cache after it did).

Invalidation: whoever changes a user's memberships calls :meth:`CachedGrants.forget`
after the change committed (the access and session use cases do). The TTL is
the last bound, for changes made where no one forgets (a client app writing
to the database itself, a cache that was unreachable at the moment of the
change): such a change shows in at most :data:`ANSWER_TTL` seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol, TypeGuard

from ..core.groups import GroupPath, Held
from . import Cache, cache_key, generations

__all__ = ["CachedGrants", "GrantSource", "ANSWER_TTL"]

ANSWER_TTL = 60
"""Seconds a membership answer is cached at most."""


class GrantSource(Protocol):
    def grants(self, user_id: str, paths: Sequence[GroupPath],
               now: float) -> dict[GroupPath, Held | None]: ...


class CachedGrants:
    """``grants`` answered from ``cache`` where it can, from ``source`` otherwise."""

    def __init__(self, source: GrantSource, cache: Cache, ttl: int = ANSWER_TTL) -> None:
        self.source = source
        self.cache = cache
        self.ttl = ttl

    def grants(self, user_id: str, paths: Sequence[GroupPath],
               now: float) -> dict[GroupPath, Held | None]:
        """For each path, the nearest group at or above it the user may enter, and until
        when (see the source's ``grants``)."""
        generation = generations.current(self.cache, generation_key(user_id))
        if generation is None:
            return self.source.grants(user_id, paths, now)
        keys = {path: cache_key("grant", user_id, generation, path) for path in paths}
        found = self.cache.get_many(keys.values())
        answers: dict[GroupPath, Held | None] = {}
        missing: list[GroupPath] = []
        for path, key in keys.items():
            entry = found.get(key)
            try:
                if _fresh(entry, now):
                    answers[path] = _held(entry)
                    continue
            except (TypeError, ValueError):  # not an answer of ours: a miss
                pass
            missing.append(path)
        if missing:
            for path, held in self.source.grants(user_id, missing, now).items():
                answers[path] = held
                self._keep(keys[path], held, now)
        return answers

    def forget(self, user_id: str) -> None:
        """Forget every answer cached for ``user_id`` (after a change committed)."""
        generations.forget(self.cache, generation_key(user_id))

    def _keep(self, key: str, held: Held | None, now: float) -> None:
        ttl = self.ttl
        if held is not None and held.until is not None:
            ttl = min(ttl, math.floor(held.until - now))
        if ttl >= 1:
            self.cache.set(key, _entry(held), ttl)


def generation_key(user_id: str) -> str:
    return cache_key("gen:user", user_id)


def _entry(held: Held | None) -> dict[str, Any]:
    if held is None:
        return {"held": False}
    return {"held": True, "group": str(held.group), "until": held.until}


def _fresh(entry: Any, now: float) -> TypeGuard[dict[str, Any]]:
    """Whether ``entry`` is a well-formed answer that still holds at ``now``."""
    if not isinstance(entry, dict) or not isinstance(entry.get("held"), bool):
        return False
    if not entry["held"]:
        return True
    until = entry.get("until")
    return isinstance(entry.get("group"), str) and (
        until is None or (isinstance(until, (int, float)) and until > now))


def _held(entry: dict[str, Any]) -> Held | None:
    if not entry["held"]:
        return None
    return Held(GroupPath.parse(entry["group"]), entry["until"])
