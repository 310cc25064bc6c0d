"""Generations: one number per subject (a user) that names the current version of what is
cached about it, so that forgetting everything cached about it is one write.

Entries are cached under ``(subject, generation)``. A change, once committed,
:func:`forget`\\ s the generation (deletes its key); the next reader creates a
new one with ``add`` at a random 62-bit value, so a generation that was
forgotten or evicted never comes back, and whatever was cached under it is
never read again (it ages out by its TTL).

The race this settles: a reader that read the database *before* the change
committed, and writes its answer after the generation was forgotten, writes it
under the old generation, which no reader asks for any more. Readers between the
commit and :func:`forget` still see the old answers: the change takes effect in
the cache when :func:`forget` returns, which the writer does before answering.
"""

from __future__ import annotations

import secrets

from . import Cache

__all__ = ["current", "forget", "GENERATION_TTL"]

GENERATION_TTL = 24 * 3600
"""Seconds a generation lives untouched (then a new one starts: harmless)."""


def current(cache: Cache, key: str) -> int | None:
    """The generation under ``key``, made if missing; None if the cache cannot say (then
    the caller must neither read nor write entries)."""
    value = cache.get(key)
    if type(value) is not int:
        cache.add(key, secrets.randbits(62), GENERATION_TTL)
        value = cache.get(key)
    return value if type(value) is int else None


def forget(cache: Cache, key: str) -> None:
    """Start a new generation (call after the change committed)."""
    cache.delete(key)
