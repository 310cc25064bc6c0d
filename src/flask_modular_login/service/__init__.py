"""The use cases of the login service, between the views (and CLI, and channel) and the store.

:class:`Services` bundles them for one store: ``sessions`` (:mod:`.sessions`) and
``access`` (:mod:`.access`), sharing one :class:`~.notifier.Notifier` and one shared
cache (:mod:`..cache`, memcached when ``LOGIN_MEMCACHED`` is set). Views parse a
request, call one use case, render; they never orchestrate the store.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..authority import LeaseAuthority
from ..bell import BELL_NAME, ring
from ..cache import Cache, NullCache, shared_cache
from ..config import Settings
from ..keystore import Keys
from ..store import Store
from .access import AccessService
from .notifier import LocalNotifier
from .sessions import SessionService


@dataclass
class Services:
    store: Store
    sessions: SessionService
    access: AccessService
    notifier: LocalNotifier
    cache: Cache = field(default_factory=NullCache)
    """The shared cache (``LOGIN_MEMCACHED``; :class:`~..cache.NullCache` when unset)."""

    @classmethod
    def build(cls, store: Store, keys: Callable[[], Keys], settings: Settings,
              clock: Callable[[], float] = time.time, cache: Cache | None = None) -> Services:
        """The use cases over ``store``; ``cache`` defaults to what ``LOGIN_MEMCACHED`` names."""
        notifier = LocalNotifier()
        notifier.subscribe(functools.partial(ring, settings.sockets_dir / BELL_NAME))
        authority = LeaseAuthority(store, keys, settings, clock)
        cache = shared_cache(settings.memcached, settings.run_dir) if cache is None else cache
        return cls(store, SessionService(store, authority, notifier, cache),
                   AccessService(store.access, notifier, authority.now, cache), notifier, cache)
