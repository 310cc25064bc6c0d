"""The use cases of the login service, between the views (and CLI, and channel) and the store.

:class:`Services` bundles them for one store: ``sessions`` (:mod:`.sessions`) and
``access`` (:mod:`.access`), sharing one :class:`~.notifier.Notifier`. Views parse a
request, call one use case, render; they never orchestrate the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..authority import LeaseAuthority
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

    @classmethod
    def build(cls, store: Store, keys: Callable[[], Keys], settings: Settings,
              clock: Callable[[], float] = time.time) -> Services:
        notifier = LocalNotifier()
        authority = LeaseAuthority(store, keys, settings, clock)
        return cls(store, SessionService(store, authority, notifier),
                   AccessService(store.access, notifier, authority.now), notifier)
