"""The lease authority: turns store sessions into signed leases (login and renewal).

Held by the login service and by local clients (same machine, same ``run/``);
remote clients never hold one: they ask the service over the channel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .config import Settings
from .core import leases
from .core.leases import Issued as Issued
from .core.leases import Lease

if TYPE_CHECKING:
    from .keystore import Keys
    from .store import Store
    from .store.audit import AuditEntry


class LeaseAuthority:
    def __init__(self, store: Store, keys: Callable[[], Keys], settings: Settings,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._keys = keys
        self.settings = settings
        self.clock = clock

    def now(self) -> int:
        return int(self.clock())

    def start_session(self, user_id: str, provider: str, ip: str | None = None,
                      user_agent: str | None = None,
                      audit: AuditEntry | None = None) -> Issued:
        """A new session (never reusing one from before login) and its first lease.

        The lease is decided in the transaction that writes the session and signed
        without reading the session again: a concurrent "end all others" ends the new
        session (its revocation reaches every client) but never fails the login.
        Raises :class:`SessionEnded` only if the user was removed meanwhile.
        """
        lease = self.store.sessions.create(
            user_id, provider, self.now(), self.settings.session_seconds,
            self.settings.lease_seconds, ip, user_agent, audit=audit)
        return self._sign(lease)

    def renew(self, expired: Lease) -> Issued:
        """Replace an expired lease; raises :class:`SessionEnded` if the session is over."""
        return self._sign(self.store.sessions.renew(expired, self.now(),
                                                    self.settings.lease_seconds))

    def _sign(self, lease: Lease) -> Issued:
        return Issued(lease, leases.issue(lease, self._keys().signing))
