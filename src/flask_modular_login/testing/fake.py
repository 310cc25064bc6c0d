"""``FakeLoginInterface``: the request check with its three ports filled in memory, for tests.

The real check (:class:`~flask_modular_login.client.check.LoginCheck`) runs unchanged;
only its adapters are fakes:

* leases are signed with a throwaway Ed25519 key made in memory (never written
  anywhere; every fake has its own, so its cookies mean nothing to another fake
  or to a real service);
* the event feed is in memory: :meth:`FakeLoginInterface.end_session` appends a
  ``revoked`` event, so the session's old cookies are refused at once;
* the renewer renews against the fake's own sessions;
* group checks ask an :class:`~flask_modular_login.core.groups.InMemoryMemberships`
  (access flows down the tree, as in the real thing) and are not cached, so a
  :meth:`~FakeLoginInterface.grant` or :meth:`~FakeLoginInterface.revoke` counts on the
  next request.

No run directory, database, service or channel is needed. Plug it into a
:class:`~flask_modular_login.LoginBuilder` with ``builder.use(fake)`` (the pytest
plugin, :mod:`.plugin`, does that for you).
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..client.access import GroupAccess
from ..client.check import LoginCheck
from ..client.events import EventFeed
from ..client.hooks import FrameworkHooks
from ..config import Settings, load_settings
from ..cookies import cookie_flags, lease_cookie
from ..core import leases
from ..core.errors import SessionEnded
from ..core.events import REVOKED, Event
from ..core.groups import Evaluation, Expression, GroupPath, InMemoryMemberships, evaluate
from ..core.invitations import Grant
from ..core.leases import Issued, KeyRing, Lease, SessionFacts, SigningKey
from ..core.verifier import LeaseVerifier

__all__ = ["FakeLoginInterface", "FakeAccess", "InMemoryEventFeed", "FakeRenewer", "as_path"]

SESSION_SECONDS = 30 * 24 * 3600
GroupLike = GroupPath | str


def as_path(group: GroupLike) -> GroupPath:
    """``"chat/room"`` or ``chat / "room"`` as a :class:`GroupPath`."""
    return group if isinstance(group, GroupPath) else GroupPath.parse(group)


class InMemoryEventFeed(EventFeed):
    """An event feed nobody polls: events arrive through :meth:`publish`."""

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__()
        self._clock = clock
        self._cursors = itertools.count(1)

    def refresh(self, now: float, force: bool = False) -> None:
        return None

    def publish(self, kind: str, **fields: Any) -> Event:
        """Append one event (the next cursor) and apply it now."""
        now = self._clock()
        event = Event(cursor=next(self._cursors), kind=kind, created_at=int(now), **fields)
        self.apply([event], now)
        return event


class FakeRenewer:
    """The :class:`~flask_modular_login.client.check.LeaseRenewer` over the fake's sessions."""

    def __init__(self, fake: FakeLoginInterface) -> None:
        self._fake = fake
        self.renewals = 0

    def renew(self, token: str, expired: Lease) -> Issued:
        facts = self._fake.sessions.get(expired.session_id)
        if facts is None:
            raise SessionEnded("unknown session")
        issued = self._fake._sign(leases.lease_for(facts, int(self._fake.clock()),
                                                   self._fake.settings.lease_seconds))
        self.renewals += 1
        return issued


class FakeAccess(GroupAccess):
    """Group checks against in-memory memberships, never cached; the programmatic API
    (``ensure``, ``add_member``, ``remove_member``) of the real one, in memory."""

    def __init__(self, feed: EventFeed, memberships: InMemoryMemberships,
                 clock: Callable[[], float]) -> None:
        super().__init__(feed, None, clock)
        self.memberships = memberships
        self.groups: set[GroupPath] = set()
        self.checks: list[tuple[str, Expression, bool]] = []
        """Every check decided: ``(user_id, expression, allowed)``, oldest first."""

    def _decide(self, expr: Expression, user_id: str, now: float) -> tuple[Evaluation, float]:
        outcome = evaluate(expr, user_id, self.memberships)
        self.checks.append((user_id, expr, outcome.allowed))
        return outcome, now  # stands until now: never served from the cache

    def _make(self, path: GroupPath, owner: tuple[str, str] | None) -> bool:
        self.groups.update(GroupPath(ancestor.root, ancestor.segments)
                           for ancestor in path.ancestors())
        return True

    def add_member(self, path: GroupPath, user_id: str, grant: Grant | None = None) -> None:
        self.ensure(path)
        self.memberships.add(user_id, GroupPath(path.root, path.segments),
                             None if grant is None else grant.expires)
        self.cache.forget(user_id)

    def remove_member(self, path: GroupPath, user_id: str) -> bool:
        plain = GroupPath(path.root, path.segments)
        held = plain in self.memberships._held.get(user_id, {})
        self.memberships.remove(user_id, plain)
        self.cache.forget(user_id)
        return held


class FakeLoginInterface(FrameworkHooks, LoginCheck):
    """A login interface for tests (see the module): a drop-in for ``LocalLoginInterface``
    and ``RemoteLoginInterface`` in a builder (``builder.use(fake)``) or in another
    framework's middleware.

    ``settings`` keywords override the defaults (``lease_seconds``, ``cookie_name``, ...);
    ``cookie_secure`` defaults to False, as test clients speak plain http. ``clock`` is
    shared by every part, so a test may pass one it controls.
    """

    def __init__(self, settings: Settings | None = None, *,
                 clock: Callable[[], float] = time.time, **overrides: Any) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        overrides.setdefault("cookie_secure", False)
        self.settings = settings or load_settings(environ={}, **overrides)
        self._key = SigningKey(Ed25519PrivateKey.generate())
        ring = KeyRing([self._key.private_key.public_key()])
        self.sessions: dict[str, SessionFacts] = {}
        self.memberships = InMemoryMemberships(clock)
        feed = InMemoryEventFeed(clock)
        super().__init__(LeaseVerifier(lambda: ring, clock), feed, FakeRenewer(self), clock)
        self.access = FakeAccess(feed, self.memberships, clock)

    # ------------------------------------------------------------ sessions and leases

    def login(self, user_id: str, name: str | None = None, picture: str | None = None,
              groups: Iterable[GroupLike] = (), session_seconds: int = SESSION_SECONDS) -> Issued:
        """Start a session for ``user_id`` (``name`` defaults to it) and return its first
        lease; ``groups`` are memberships given to the user (see :meth:`grant`)."""
        now = int(self.clock())
        facts = SessionFacts(session_id=secrets.token_urlsafe(16), user_id=user_id,
                             name=user_id if name is None else name, picture=picture,
                             auth_time=now, expires_at=now + session_seconds)
        self.sessions[facts.session_id] = facts
        self.grant(user_id, *groups)
        return self._sign(leases.lease_for(facts, now, self.settings.lease_seconds))

    def expired(self, session_id: str) -> Issued:
        """A genuine lease of the session that ran out a second ago: the next request
        with it renews it (if the session still lives)."""
        facts = self.sessions.get(session_id)
        if facts is None:
            raise SessionEnded("unknown or ended session")
        now = int(self.clock())
        lease = leases.lease_for(facts, now, self.settings.lease_seconds)
        return self._sign(dataclasses.replace(
            lease, issued_at=now - 1 - self.settings.lease_seconds, expires_at=now - 1))

    def end_session(self, session_id: str) -> None:
        """End the session (logout): its leases are refused from the next request on, as
        a revocation pushed by the service would make them."""
        facts = self.sessions.pop(session_id, None)
        leases_end = int(self.clock()) + self.settings.lease_seconds + 1
        if facts is not None:
            leases_end = facts.expires_at
        self.feed.publish(REVOKED, session_id=session_id, leases_end=leases_end)  # type: ignore[attr-defined]

    def end_session_soon(self, session_id: str) -> None:
        """Make the session itself run out (not revoked): valid leases work until they
        expire, and then renewal is refused."""
        facts = self.sessions.get(session_id)
        if facts is not None:
            self.sessions[session_id] = dataclasses.replace(facts, expires_at=int(self.clock()))

    @property
    def renewals(self) -> int:
        """How many leases the fake renewed."""
        return self.renewer.renewals  # type: ignore[attr-defined]

    def _sign(self, lease: Lease) -> Issued:
        return Issued(lease, leases.issue(lease, self._key))

    # ------------------------------------------------------------ groups

    def grant(self, user_id: str, *groups: GroupLike) -> None:
        """Make ``user_id`` a member of each group (and so of everything below it)."""
        for group in groups:
            self.access.add_member(as_path(group), user_id)

    def revoke(self, user_id: str, *groups: GroupLike) -> None:
        """End the memberships :meth:`grant` gave (access through a group above stays)."""
        for group in groups:
            self.access.remove_member(as_path(group), user_id)

    def groups_of(self, user_id: str) -> Sequence[GroupPath]:
        return sorted(self.memberships._held.get(user_id, {}), key=str)

    # ------------------------------------------------------------ what adapters call

    def sync_revocations(self) -> None:
        """Nothing to do: events are applied as they are published."""

    def cookie(self, issued: Issued) -> dict[str, Any]:
        return lease_cookie(self.settings, issued, self.clock())

    def cookie_flags(self) -> dict[str, Any]:
        return cookie_flags(self.settings)

    def close(self) -> None:
        """Nothing to close."""
