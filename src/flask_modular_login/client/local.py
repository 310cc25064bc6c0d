"""``LocalLoginInterface``: check a request's ``login`` cookie in any Python framework.

For apps on the same machine as the login service (same ``run/`` and database);
apps on other hosts use ``RemoteLoginInterface`` (:mod:`.remote`), the same check
over the channel.

Framework adapters (the Flask decorators, the aiohttp example) call
:meth:`LocalLoginInterface.authenticate` with the cookie's value and then apply
the returned :class:`Authentication` to their response: set the renewed cookie,
or clear a bad one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..authority import LeaseAuthority
from ..config import RunDirNotFound, Settings, load_client_settings, load_settings
from ..cookies import cookie_flags, lease_cookie
from ..core.leases import Issued, Lease
from ..core.verifier import LeaseVerifier
from .access import LocalAccess
from .check import ANONYMOUS, REJECTED, Authentication, LoginCheck
from .events import StoreEventFeed
from .hooks import FrameworkHooks
from .revocations import RevocationsUnavailable

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["LocalLoginInterface", "Authentication", "ANONYMOUS", "REJECTED", "RunDirNotFound"]

logger = logging.getLogger("flask_modular_login.client")
_REPORTED: set[str] = set()  # RunDirNotFound messages logged in this process
_REPORTED_LOCK = threading.Lock()


class LocalLoginInterface(FrameworkHooks, LoginCheck):
    """The request check (:class:`~.check.LoginCheck`) with local adapters: keys from
    ``run/keys``, the store's event log polled, leases renewed against the store.

    The run directory is ``run_dir`` (or ``LOGIN_RUN_DIR``), else the one
    :func:`~flask_modular_login.config.find_run_dir` finds. If there is none,
    building the interface still succeeds (apps build it at import time) and
    creates nothing; every check then raises :class:`RunDirNotFound`, which names
    ``LOGIN_RUN_DIR`` and the places looked at and is logged once per process. The
    database is opened, never created.
    """

    def __init__(self, settings: Settings | None = None, *, store: Store | None = None,
                 clock: Callable[[], float] = time.time, **overrides: Any) -> None:
        self._access: LocalAccess | None = None
        self._access_lock = threading.Lock()
        self.channel = None
        self.missing: RunDirNotFound | None = None
        try:
            self.settings = settings or load_client_settings(**overrides)
        except RunDirNotFound as error:
            # Built at import time in some apps: the error waits for the first check.
            self.settings = load_settings(**overrides)
            self.clock = clock
            self.missing = error
            return
        from ..keystore import KeyCache  # cryptography's key loading and the store
        from ..store import open_store  # (SQLAlchemy): on the first check, not on import

        self.store = store or open_store(self.settings.database_url, create=False)
        self._keys = KeyCache(self.settings.keys_dir)
        self.authority = LeaseAuthority(self.store, self._keys.get, self.settings, clock)
        feed = StoreEventFeed(self.store.events, self.settings.revocation_poll_seconds, clock)
        super().__init__(LeaseVerifier(lambda: self._keys.reload().ring, clock), feed,
                         _StoreRenewer(self.authority), clock)
        self.channel = self._listen(clock)

    def authenticate(self, token: str | None) -> Authentication:
        """See :meth:`LoginCheck.authenticate`; raises :class:`RunDirNotFound` (logged once)
        when no run directory of the service was found."""
        if self.missing is not None:
            raise self._report_missing()
        return super().authenticate(token)

    def check_needs_no_wait(self, token: str | None) -> bool:
        return self.missing is not None or super().check_needs_no_wait(token)

    def _report_missing(self) -> RunDirNotFound:
        assert self.missing is not None
        message = str(self.missing)
        with _REPORTED_LOCK:
            first = message not in _REPORTED
            _REPORTED.add(message)
        if first:
            logger.error("login checks are unavailable: %s", message)
        return self.missing.with_traceback(None)

    def _listen(self, clock: Callable[[], float]) -> Any:
        """Hear events pushed over the channel's unix socket, if the channel runs and this
        process may read ``run/``: changes then arrive in milliseconds; polling stays the
        fallback. None when there is no channel to hear."""
        from ..channel.local import local_channel

        found = local_channel(self.settings.run_dir, self.settings.sockets_dir)
        if found is None:
            return None
        from ..channel.client import ChannelClient  # websockets only when there is a channel

        feed = self.feed
        channel = ChannelClient(found[0], found[1], on_events=lambda events, _now:
                                feed.apply(events, clock()), cursor=lambda: feed.cursor)
        channel.start()
        return channel

    def close(self) -> None:
        """Stop hearing the channel (polling goes on)."""
        if self.channel is not None:
            self.channel.close()

    @property
    def access(self) -> LocalAccess:
        """Access groups for this process: checks (cached) and the programmatic API.

        Built on first use, so apps that name no groups pay nothing for it.
        """
        if self.missing is not None:
            raise self._report_missing()
        if self._access is None:
            with self._access_lock:
                if self._access is None:
                    self._access = LocalAccess(self.store, self.feed, clock=self.clock)
        return self._access

    def sync_revocations(self) -> None:
        """Read new events now (after this process changed something itself)."""
        if self.missing is not None:
            raise self._report_missing()
        self.feed.refresh(self.clock(), force=True)

    def cookie(self, issued: Issued) -> dict[str, Any]:
        """Keyword arguments for ``response.set_cookie`` (Flask and aiohttp alike)."""
        return lease_cookie(self.settings, issued, self.clock())

    def cookie_flags(self) -> dict[str, Any]:
        """Path, domain and flags shared by setting and deleting the cookie."""
        return cookie_flags(self.settings)


class RenewalUnavailable(RevocationsUnavailable):
    """The store could not renew a lease now (busy, read-only, full, out of reach): the
    check cannot finish, so the app answers 503 and keeps the cookie; the session is
    still valid and the next request renews it."""

    code = "renewal_unavailable"


class _StoreRenewer:
    """The local :class:`~.check.LeaseRenewer`: straight against the store. A database
    fault raises :class:`RenewalUnavailable`, never an error page of the app's own
    (the decorators answer it like revocations too old to trust: 503, retry)."""

    def __init__(self, authority: LeaseAuthority) -> None:
        self._authority = authority

    def renew(self, token: str, expired: Lease) -> Issued:
        from sqlalchemy.exc import DBAPIError  # loaded with the store already

        try:
            return self._authority.renew(expired)
        except DBAPIError as error:  # the type only: the message may quote values
            logger.warning("lease renewal failed: the user database: %s",
                           type(error.orig or error).__name__)
            raise RenewalUnavailable("the lease cannot be renewed now") from None
