"""The request check: one function over three ports, the same for local and remote clients.

:meth:`LoginCheck.authenticate` turns a ``login`` cookie into an
:class:`Authentication`:

1. verify the lease token's signature with the public keys (cached per token:
   a second request with the same cookie is one dict look-up);
2. refuse it if its session is in the feed's revocation set;
3. if the lease ran out, ask the renewer for a new one.

The ports, filled by local adapters (the store on this machine) or remote ones
(the channel):

* a :class:`LeaseRenewer` replaces an expired lease, or raises
  :class:`~flask_modular_login.core.errors.SessionEnded`;
* an :class:`~.events.EventFeed` holds the revocations (and tells the access
  cache of membership changes); its ``refresh`` is cheap when nothing is due;
* a membership oracle (:class:`MembershipOracle`) answers group checks
  (:mod:`.access`).

A valid, unrevoked, unexpired lease costs no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from ..core.errors import LeaseError, SessionEnded
from ..core.groups import GroupPath, Held
from ..core.leases import ANONYMOUS, REJECTED, Authentication, Issued, Lease
from .events import EventFeed

__all__ = ["LoginCheck", "LeaseRenewer", "MembershipOracle", "Authentication", "ANONYMOUS",
           "REJECTED"]
from ..core.verifier import LeaseVerifier


class LeaseRenewer(Protocol):
    def renew(self, token: str, expired: Lease) -> Issued:
        """A new lease for the session of ``expired``; raises ``SessionEnded``."""
        ...


class MembershipOracle(Protocol):
    def grants(self, user_id: str, paths: Sequence[GroupPath],
               now: float) -> dict[GroupPath, Held | None]:
        """For each path, the nearest group at or above it the user may enter, and until
        when that answer stands; None where they may not enter."""
        ...


class LoginCheck:
    """Checks cookies against ``verifier``, ``feed`` and ``renewer`` (see the module)."""

    def __init__(self, verifier: LeaseVerifier, feed: EventFeed, renewer: LeaseRenewer,
                 clock: Callable[[], float]) -> None:
        self.verifier = verifier
        self.feed = feed
        self.renewer = renewer
        self.clock = clock

    def authenticate(self, token: str | None) -> Authentication:
        """Check one cookie value; see :class:`Authentication` for what to do next.

        Raises :class:`~.revocations.RevocationsUnavailable` when the feed cannot be
        trusted: answer 503, never "allowed".
        """
        if not token:
            return ANONYMOUS
        now = self.clock()
        self.feed.refresh(now)
        try:
            lease = self.verifier.lease(token)
        except LeaseError:
            return REJECTED
        if lease.session_id in self.feed.revoked:
            self.verifier.forget(token)
            return REJECTED
        if now < lease.expires_at:
            return Authentication(lease.user(), lease)
        return self._renew(token, lease)

    def _renew(self, token: str, expired: Lease) -> Authentication:
        self.verifier.forget(token)
        try:
            issued = self.renewer.renew(token, expired)
        except SessionEnded:
            return REJECTED
        return Authentication(issued.lease.user(), issued.lease, renewed=issued)
