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

import threading
import time
from collections.abc import Callable
from typing import Any

from ..authority import LeaseAuthority
from ..config import Settings, load_settings
from ..cookies import cookie_flags, lease_cookie
from ..core.leases import Issued, Lease
from ..core.verifier import LeaseVerifier
from ..keystore import KeyCache
from ..store import Store, open_store
from .access import LocalAccess
from .check import ANONYMOUS, REJECTED, Authentication, LoginCheck
from .events import StoreEventFeed
from .hooks import FrameworkHooks

__all__ = ["LocalLoginInterface", "Authentication", "ANONYMOUS", "REJECTED"]


class LocalLoginInterface(FrameworkHooks, LoginCheck):
    """The request check (:class:`~.check.LoginCheck`) with local adapters: keys from
    ``run/keys``, the store's event log polled, leases renewed against the store."""

    def __init__(self, settings: Settings | None = None, *, store: Store | None = None,
                 clock: Callable[[], float] = time.time, **overrides: Any) -> None:
        self.settings = settings or load_settings(**overrides)
        self.store = store or open_store(self.settings.database_url)
        self._keys = KeyCache(self.settings.keys_dir)
        self.authority = LeaseAuthority(self.store, self._keys.get, self.settings, clock)
        feed = StoreEventFeed(self.store.events, self.settings.revocation_poll_seconds, clock)
        super().__init__(LeaseVerifier(lambda: self._keys.reload().ring, clock), feed,
                         _StoreRenewer(self.authority), clock)
        self._access: LocalAccess | None = None
        self._access_lock = threading.Lock()
        self.channel = self._listen(clock)

    def _listen(self, clock: Callable[[], float]) -> Any:
        """Hear events pushed over the channel's unix socket, if the channel runs and this
        process may read ``run/``: changes then arrive in milliseconds; polling stays the
        fallback. None when there is no channel to hear."""
        from ..channel.local import local_channel

        found = local_channel(self.settings.run_dir)
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
        if self._access is None:
            with self._access_lock:
                if self._access is None:
                    self._access = LocalAccess(self.store, self.feed, clock=self.clock)
        return self._access

    def sync_revocations(self) -> None:
        """Read new events now (after this process changed something itself)."""
        self.feed.refresh(self.clock(), force=True)

    def cookie(self, issued: Issued) -> dict[str, Any]:
        """Keyword arguments for ``response.set_cookie`` (Flask and aiohttp alike)."""
        return lease_cookie(self.settings, issued, self.clock())

    def cookie_flags(self) -> dict[str, Any]:
        """Path, domain and flags shared by setting and deleting the cookie."""
        return cookie_flags(self.settings)


class _StoreRenewer:
    """The local :class:`~.check.LeaseRenewer`: straight against the store."""

    def __init__(self, authority: LeaseAuthority) -> None:
        self._authority = authority

    def renew(self, token: str, expired: Lease) -> Issued:
        return self._authority.renew(expired)
