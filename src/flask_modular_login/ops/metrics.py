"""Prometheus metrics of the login service and its channel (``LOGIN_METRICS``).

Needs ``prometheus-client`` (the ``metrics`` extra); import this module only when
metrics are on. The counters are fed by :mod:`..signals` (:func:`connect`), so
no view counts anything itself:

=============================================  =============================================
``flask_modular_login_logins_total``           logins by ``provider`` and ``outcome``
                                               (``success``, ``refused``: a refused callback)
``flask_modular_login_renewals_total``         leases the service renewed (browsers at the
                                               service, remote clients over the channel)
``flask_modular_login_refusals_total``         refusals by ``kind`` (``renewal``, ``callback``,
                                               ``channel``) and ``reason`` (a stable error code)
``flask_modular_login_revocations_total``      sessions ended, by ``reason`` (``logout``,
                                               ``ended``, ``ended_by_user``, ``relogin``, ...)
``flask_modular_login_channel_clients``        authenticated channel connections now (set by
                                               the channel's process, :func:`report_channel`)
``flask_modular_login_channel_cursor``         the newest event the channel of ``host`` read
``flask_modular_login_event_log_cursor``       the newest event in the log (read at scrape)
``flask_modular_login_event_log_lag_events``   events in the log not yet read by the channel
                                               of ``host``: ``event_log_cursor`` minus
                                               ``channel_cursor``, computed at scrape
=============================================  =============================================

Several processes (uwsgi's workers, the channel) share counts through
prometheus-client's multiprocess mode: set ``PROMETHEUS_MULTIPROC_DIR`` to an
empty directory before they start (``sh server.sh start`` uses
``run/metrics``, emptied at each start); a scrape of any worker then sums them
all. Without it, a scrape shows the answering process alone.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from .. import signals

__all__ = ["CONTENT_TYPE_LATEST", "connect", "render", "report_channel"]

NAMESPACE = "flask_modular_login"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
HOST = socket.gethostname()
REGISTRY = CollectorRegistry()
"""The metrics of this process (scraped when not in multiprocess mode)."""

LOGINS = Counter("logins", "Logins by provider and outcome.", ["provider", "outcome"],
                 namespace=NAMESPACE, registry=REGISTRY)
RENEWALS = Counter("renewals", "Leases renewed by the service.", namespace=NAMESPACE,
                   registry=REGISTRY)
REFUSALS = Counter("refusals", "Refusals by kind and reason.", ["kind", "reason"],
                   namespace=NAMESPACE, registry=REGISTRY)
REVOCATIONS = Counter("revocations", "Sessions ended, by reason.", ["reason"],
                      namespace=NAMESPACE, registry=REGISTRY)
CHANNEL_CLIENTS = Gauge("channel_clients", "Authenticated channel connections.",
                        namespace=NAMESPACE, registry=REGISTRY, multiprocess_mode="livesum")
CHANNEL_CURSOR = Gauge("channel_cursor", "The newest event the channel of host read.", ["host"],
                       namespace=NAMESPACE, registry=REGISTRY, multiprocess_mode="livemax")


def _on_login(sender: Any, provider: str = "", **extra: Any) -> None:
    LOGINS.labels(provider or "-", "success").inc()


def _on_login_refused(sender: Any, provider: str = "", reason: str = "", **extra: Any) -> None:
    LOGINS.labels(provider or "-", "refused").inc()
    REFUSALS.labels("callback", reason or "-").inc()


def _on_renewed(sender: Any, **extra: Any) -> None:
    RENEWALS.inc()


def _on_renewal_refused(sender: Any, **extra: Any) -> None:
    REFUSALS.labels("renewal", "session_ended").inc()


def _on_channel_refused(sender: Any, reason: str = "", **extra: Any) -> None:
    REFUSALS.labels("channel", reason or "-").inc()


def _on_logout(sender: Any, **extra: Any) -> None:
    REVOCATIONS.labels("logout").inc()


def _on_session_ended(sender: Any, reason: str = "", handles: Any = (), **extra: Any) -> None:
    REVOCATIONS.labels(reason or "-").inc(len(handles or ()))


_RECEIVERS = {
    signals.login: _on_login,
    signals.login_refused: _on_login_refused,
    signals.lease_renewed: _on_renewed,
    signals.renewal_refused: _on_renewal_refused,
    signals.channel_refused: _on_channel_refused,
    signals.logout: _on_logout,
    signals.session_ended: _on_session_ended,
}


def connect() -> None:
    """Count the events of every service of this process (idempotent)."""
    for signal, receiver in _RECEIVERS.items():
        signal.connect(receiver, weak=False)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def render(log_cursor: Callable[[], int]) -> bytes:
    """The text exposition of every metric (of every process, in multiprocess mode), with
    the event log's cursor and each host channel's lag read now from ``log_cursor``."""
    registry = REGISTRY
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    lag = CollectorRegistry()
    lag.register(_EventLogLag(registry, log_cursor))
    return generate_latest(registry) + generate_latest(lag)


class _EventLogLag:
    """The log's cursor, and how far each host's channel is behind it."""

    def __init__(self, registry: CollectorRegistry, log_cursor: Callable[[], int]) -> None:
        self._registry = registry
        self._log_cursor = log_cursor

    def collect(self) -> Iterator[Metric]:
        newest = self._log_cursor()
        yield GaugeMetricFamily(f"{NAMESPACE}_event_log_cursor", "The newest event in the log.",
                                value=newest)
        lag = GaugeMetricFamily(f"{NAMESPACE}_event_log_lag_events",
                                "Events the channel of host has not read yet.", labels=["host"])
        for metric in self._registry.collect():
            if metric.name != CHANNEL_CURSOR._name:
                continue
            for sample in metric.samples:
                lag.add_metric([sample.labels.get("host", "")], max(0, newest - sample.value))
        yield lag


async def report_channel(server: Any, interval: float = 1.0) -> None:
    """Run in the channel's process until cancelled: publish its connections and cursor
    every ``interval`` seconds; in multiprocess mode its live gauges go with it."""
    try:
        while True:
            CHANNEL_CLIENTS.set(server.clients)
            CHANNEL_CURSOR.labels(HOST).set(server.cursor)
            await asyncio.sleep(interval)
    finally:
        path = multiprocess_dir()
        if path:
            multiprocess.mark_process_dead(os.getpid(), path)
