"""Telling listeners that the event log grew.

A use case (:mod:`.sessions`, :mod:`.access`) writes its rows and its event in one
transaction, then calls :meth:`Notifier.notify`: the in-process listeners
(a local client sharing the process) read the log at once, and the channel
server pushes the new events to its clients. A notifier never raises: a
listener that fails is logged, and polling remains the fallback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

logger = logging.getLogger("flask_modular_login.events")


class Notifier(Protocol):
    def notify(self) -> None:
        """New events were committed to the log."""
        ...


class LocalNotifier:
    """Calls every subscribed function on :meth:`notify`, in the notifying thread."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener()
            except Exception as error:  # a listener never fails the change itself
                logger.warning("event listener failed: %s: %s", type(error).__name__, error)
