"""``LocalLoginInterface``: check a request's ``login`` cookie in any Python framework.

For apps on the same machine as the login service (same ``run/`` and database).
Framework adapters (the Flask decorators, the aiohttp example) call
:meth:`LocalLoginInterface.authenticate` with the cookie's value and then apply
the returned :class:`Authentication` to their response: set the renewed cookie,
or clear a bad one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..authority import Issued, LeaseAuthority
from ..config import Settings, load_settings
from ..core.errors import LeaseError, SessionEnded
from ..core.leases import Lease
from ..keystore import Keys, load
from ..store import Store, open_store
from .access import LocalAccess
from .revocations import RevocationPoller, RevocationSet
from .verifier import LeaseVerifier


@dataclass(frozen=True)
class Authentication:
    """The outcome of checking one cookie.

    ``user`` is ``{"id", "name", "picture"}`` or None (logged out). ``renewed``
    holds a new lease the adapter must set as the cookie; ``clear_cookie`` asks
    it to delete a cookie that is forged, garbage or ended.
    """

    user: dict[str, Any] | None
    lease: Lease | None = None
    renewed: Issued | None = None
    clear_cookie: bool = False


ANONYMOUS = Authentication(None)
REJECTED = Authentication(None, clear_cookie=True)


class LocalLoginInterface:
    """Lease checks for one process: cached verification, revocations, local renewal."""

    def __init__(self, settings: Settings | None = None, *, store: Store | None = None,
                 clock: Callable[[], float] = time.time, **overrides: Any) -> None:
        self.settings = settings or load_settings(**overrides)
        self.store = store or open_store(self.settings.database_url)
        self.clock = clock
        self._keys = _KeyCache(self.settings)
        self.authority = LeaseAuthority(self.store, self._keys.get, self.settings, clock)
        self.verifier = LeaseVerifier(lambda: self._keys.reload().ring, clock)
        self.revocations = RevocationPoller(
            self.store, RevocationSet(), self.settings.revocation_poll_seconds, clock)
        self._access: LocalAccess | None = None
        self._access_lock = threading.Lock()

    @property
    def access(self) -> LocalAccess:
        """Access groups for this process: checks (cached) and the programmatic API.

        Built on first use, so apps that name no groups pay nothing for it.
        """
        if self._access is None:
            with self._access_lock:
                if self._access is None:
                    self._access = LocalAccess(
                        self.store, clock=self.clock,
                        poll_seconds=self.settings.revocation_poll_seconds)
        return self._access

    def authenticate(self, token: str | None) -> Authentication:
        """Check one cookie value; see :class:`Authentication` for what to do next."""
        if not token:
            return ANONYMOUS
        now = self.clock()
        self.revocations.refresh(now)
        try:
            lease = self.verifier.lease(token)
        except LeaseError:
            return REJECTED
        if lease.session_id in self.revocations.revoked:
            self.verifier.forget(token)
            return REJECTED
        if now < lease.expires_at:
            return Authentication(lease.user(), lease)
        return self._renew(token, lease)

    def _renew(self, token: str, expired: Lease) -> Authentication:
        self.verifier.forget(token)
        try:
            issued = self.authority.renew(expired)
        except SessionEnded:
            return REJECTED
        return Authentication(issued.lease.user(), issued.lease, renewed=issued)

    def sync_revocations(self) -> None:
        """Read new revocations now (after this process revoked something itself)."""
        self.revocations.refresh(self.clock(), force=True)

    def cookie(self, issued: Issued) -> dict[str, Any]:
        """Keyword arguments for ``response.set_cookie`` (Flask and aiohttp alike)."""
        max_age = max(0, issued.lease.session_expires_at - int(self.clock()))
        return {"key": self.settings.cookie_name, "value": issued.token, "max_age": max_age,
                **self.cookie_flags()}

    def cookie_flags(self) -> dict[str, Any]:
        """Path, domain and flags shared by setting and deleting the cookie."""
        return {"path": "/", "domain": self.settings.cookie_domain,
                "secure": self.settings.cookie_secure, "httponly": True, "samesite": "Lax"}


class _KeyCache:
    """Loads keys once, again on demand (a rotation seen as an unknown key id)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._keys: Keys | None = None

    def get(self) -> Keys:
        return self._keys or self.reload()

    def reload(self) -> Keys:
        self._keys = load(self._settings.keys_dir)
        return self._keys
