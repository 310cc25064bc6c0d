"""What each channel RPC does on the service: one blocking call per request.

:class:`Dispatcher` turns a decoded call (:mod:`~flask_modular_login.core.protocol.messages`)
into its result, or raises :class:`RpcFailure` carrying one of the error codes
of docs/protocol.md ("Error codes of RPCs"); the connection stays open either
way. It reads and writes the store, so the server runs it in a worker thread.
Any other exception is a bug or an outage: the server answers ``internal``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DBAPIError

from ..core.errors import LeaseError, LoginError, SessionEnded
from ..core.events import CLIENT_REVOKED, Event
from ..core.groups import evaluate
from ..core.protocol.messages import (
    AddMember,
    AddMemberResult,
    Call,
    Check,
    CheckResult,
    EnsureGroup,
    EnsureGroupResult,
    Events,
    EventsResult,
    RemoveMember,
    RemoveMemberResult,
    Renew,
    RenewResult,
    Result,
    events_page,
)
from ..core.verifier import LeaseVerifier
from ..service import Services
from ..store import Store
from .oracle import StoreOracle

__all__ = ["Dispatcher", "RpcFailure", "SESSION_ENDED", "LEASE_INVALID", "CURSOR_EXPIRED",
           "UNAVAILABLE", "BAD_VALUE", "INTERNAL"]

SESSION_ENDED = SessionEnded.code  # "session_ended"
LEASE_INVALID = LeaseError.code  # "lease_invalid"
CURSOR_EXPIRED = "cursor_expired"
UNAVAILABLE = "unavailable"
BAD_VALUE = "bad_value"
INTERNAL = "internal"


class RpcFailure(LoginError):
    """One request failed with ``code`` (the connection stays open); ``message`` is for people
    and never holds a token, key or credential."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Dispatcher:
    """Answers calls against ``store`` and ``services``; leases are verified by ``verifier``
    (the service's key ring, reloaded when a token names an unknown key)."""

    def __init__(self, store: Store, services: Services, verifier: LeaseVerifier,
                 clock: Callable[[], float]) -> None:
        self._store = store
        self._services = services
        self._verifier = verifier
        self._clock = clock
        self._handlers: dict[type, Callable[[Any], Result]] = {
            Renew: self._renew, Check: self._check, EnsureGroup: self._ensure_group,
            AddMember: self._add_member, RemoveMember: self._remove_member,
            Events: self._events,
        }

    def __call__(self, call: Call) -> Result:
        """The result of ``call``; raises :class:`RpcFailure` (store outages: ``unavailable``)."""
        try:
            return self._handlers[type(call)](call)
        except DBAPIError as error:
            raise RpcFailure(UNAVAILABLE, "the service cannot reach its store") from error

    def _renew(self, call: Renew) -> RenewResult:
        try:
            lease = self._verifier.lease(call.token)
        except LeaseError as error:
            raise RpcFailure(LEASE_INVALID, "the token is not a lease of ours") from error
        try:
            issued = self._services.sessions.renew(lease)
        except SessionEnded as error:
            raise RpcFailure(SESSION_ENDED, "session ended") from error
        return RenewResult(issued.token)

    def _check(self, call: Check) -> CheckResult:
        oracle = StoreOracle(self._services.access, self._clock())  # through the cache
        evaluation = evaluate(call.expr, call.user, oracle)
        return CheckResult(evaluation.allowed, evaluation.via, oracle.until)

    def _ensure_group(self, call: EnsureGroup) -> EnsureGroupResult:
        return EnsureGroupResult(self._store.access.ensure_group(call.path, self._now(),
                                                                 call.owner))

    def _add_member(self, call: AddMember) -> AddMemberResult:
        try:
            self._services.access.add_member(None, call.path, call.user, call.grant)
        except ValueError as error:
            raise RpcFailure(BAD_VALUE, str(error)[:200]) from error
        return AddMemberResult()

    def _remove_member(self, call: RemoveMember) -> RemoveMemberResult:
        return RemoveMemberResult(self._services.access.drop_member(None, call.path, call.user))

    def _events(self, call: Events) -> EventsResult:
        return events_after(self._store, call.after, call.limit)

    def _now(self) -> int:
        return int(self._clock())


def events_after(store: Store, after: int, limit: int) -> EventsResult:
    """The ``events`` answer: the log after ``after``, without ``client_revoked`` events.

    Raises ``cursor_expired`` when events after ``after`` were purged (the oldest
    event left is more than one past it). The answer's cursor is how far the log
    was read (past skipped events); when nothing follows ``after``, the log's
    newest cursor, read after finding nothing (and the log read again if an event
    came in between, so none is ever skipped).
    """
    log = store.events
    if after > 0:
        oldest = log.after(0, 1)
        if oldest and oldest[0].cursor > after + 1:
            raise RpcFailure(CURSOR_EXPIRED, f"events after {after} were dropped")
    rows = log.after(after, limit)
    while not rows:
        newest = log.cursor()
        if newest <= after:
            return events_page([], newest)
        rows = log.after(after, limit)  # appended since the read above
    return events_page([event for event in rows if pushable(event)], rows[-1].cursor,
                       more=len(rows) == limit)


def pushable(event: Event) -> bool:
    """Whether clients may see ``event`` (``client_revoked`` is for the server alone)."""
    return event.kind != CLIENT_REVOKED
