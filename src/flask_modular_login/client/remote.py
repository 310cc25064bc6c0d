"""``RemoteLoginInterface``: the request check for an app on another host, over the channel.

The app holds no ``run/`` and no database, and no key that can mint a lease. It
holds its channel credential (``flask-modular-login clients add NAME``) and:

* verifies leases with the service's public keys (JWKS, fetched once from
  ``base_url`` and again when a token names a key id it has not seen);
* keeps the revocation set from events the channel pushes, catching up by cursor
  after a reconnect (:class:`ChannelEventFeed`);
* renews an expired lease with one RPC (:class:`ChannelRenewer`);
* asks the service to decide group checks and caches each decision until a
  pushed change or the end the service gave (:class:`RemoteAccess`).

While the channel is down, valid leases keep working until they expire;
renewals and group checks fail closed (logged out, not allowed: without pushes
a cached answer may be stale), and the channel client says so in its log. It
reconnects by itself, with backoff, and catches up by cursor before group
checks are answered again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from ..channel.client import ChannelClient, ChannelUnavailable
from ..config import Settings, load_settings
from ..cookies import cookie_flags, lease_cookie
from ..core.errors import LeaseError, SessionEnded
from ..core.groups import Evaluation, Expression, GroupPath
from ..core.invitations import Grant
from ..core.leases import Issued, KeyRing, Lease
from ..core.protocol import messages
from ..core.verifier import LeaseVerifier
from .access import GroupAccess
from .check import LoginCheck
from .decorators import LoginBuilder
from .events import EventFeed
from .hooks import FrameworkHooks

logger = logging.getLogger("flask_modular_login.channel")

JWKS_TIMEOUT = 5.0
RPC_TIMEOUT = 5.0


class ChannelEventFeed(EventFeed):
    """Events pushed by the channel; nothing to poll, so :meth:`refresh` costs nothing."""

    def refresh(self, now: float, force: bool = False) -> None:
        return None


class ChannelRenewer:
    """The remote :class:`~.check.LeaseRenewer`: one ``renew`` RPC, the answer verified."""

    def __init__(self, channel: ChannelClient, verifier: LeaseVerifier) -> None:
        self._channel = channel
        self._verifier = verifier

    def renew(self, token: str, expired: Lease) -> Issued:
        try:
            result = self._channel.call(messages.Renew(token=token), timeout=RPC_TIMEOUT)
        except Exception as error:  # down, timed out, refused: not renewed
            logger.warning("lease renewal failed: %s: %s", type(error).__name__, error)
            raise SessionEnded("the lease could not be renewed") from None
        try:
            lease = self._verifier.lease(result.token)
        except LeaseError:
            raise SessionEnded("the service answered with a lease that does not verify") from None
        return Issued(lease, result.token)


class RemoteAccess(GroupAccess):
    """Group checks decided by the service, cached per user and expression until a pushed
    change for that user or the end the service gave (at most ``max_age`` seconds); and the
    programmatic API (``ensure``, ``add_member``, ``remove_member``) as RPCs."""

    def __init__(self, channel: ChannelClient, feed: EventFeed,
                 clock: Callable[[], float] = time.time, max_age: float = 60.0) -> None:
        super().__init__(feed, None, clock)
        self._channel = channel
        self.max_age = max_age

    def _ready(self, now: float) -> None:
        if not self._channel.ready:  # no pushes: what is cached may be stale
            raise ChannelUnavailable("the channel is down: group checks fail closed")

    def _decide(self, expr: Expression, user_id: str, now: float) -> tuple[Evaluation, float]:
        result = self._channel.call(messages.Check(user=user_id, expr=expr), timeout=RPC_TIMEOUT)
        limit = now + self.max_age
        return (Evaluation(result.allowed, dict(result.via)),
                limit if result.until is None else min(result.until, limit))

    def _make(self, path: GroupPath, owner: tuple[str, str] | None) -> bool:
        return self._channel.call(messages.EnsureGroup(path=path, owner=owner),
                                  timeout=RPC_TIMEOUT).owns

    def add_member(self, path: GroupPath, user_id: str, grant: Grant | None = None) -> None:
        self.ensure(path)
        self._channel.call(messages.AddMember(path=GroupPath(path.root, path.segments),
                                              user=user_id, grant=grant or Grant()),
                           timeout=RPC_TIMEOUT)
        self.cache.forget(user_id)

    def remove_member(self, path: GroupPath, user_id: str) -> bool:
        result = self._channel.call(messages.RemoveMember(
            path=GroupPath(path.root, path.segments), user=user_id), timeout=RPC_TIMEOUT)
        self.cache.forget(user_id)
        return result.removed


class RemoteLoginInterface(FrameworkHooks, LoginCheck):
    """The request check (:class:`~.check.LoginCheck`) with remote adapters (see the module).

    ::

        login = RemoteLoginInterface(base_url="https://example.com",
                                     uri="wss://example.com/login/channel",
                                     credential=CREDENTIAL)
        login.authenticate(cookie_value)   # or, in any framework: await login(request)
    """

    def __init__(self, base_url: str, uri: str | Sequence[str], credential: str, *,
                 settings: Settings | None = None, clock: Callable[[], float] = time.time,
                 channel: ChannelClient | None = None, **overrides: Any) -> None:
        self.settings = settings or load_settings(**overrides)
        self.base_url = base_url.rstrip("/")
        feed = ChannelEventFeed()
        self.channel = channel or ChannelClient(  # its own clock: liveness is real time
            uri, credential, on_events=feed.apply, cursor=lambda: feed.cursor,
            on_reset=self._forget_access)
        verifier = LeaseVerifier(self._fetch_keys, clock)
        super().__init__(verifier, feed, ChannelRenewer(self.channel, verifier), clock)
        self._access: RemoteAccess | None = None
        self._access_lock = threading.Lock()
        self.channel.start()

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}{self.settings.url_prefix}/.well-known/jwks.json"

    @property
    def access(self) -> RemoteAccess:
        if self._access is None:
            with self._access_lock:
                if self._access is None:
                    self._access = RemoteAccess(self.channel, self.feed, self.clock)
        return self._access

    def sync_revocations(self) -> None:
        """Nothing to do: the channel pushes events as they happen."""

    def cookie(self, issued: Issued) -> dict[str, Any]:
        return lease_cookie(self.settings, issued, self.clock())

    def cookie_flags(self) -> dict[str, Any]:
        return cookie_flags(self.settings)

    def close(self) -> None:
        self.channel.close()

    def _forget_access(self) -> None:
        """The channel lost track of changes (a log purged past our cursor): forget every
        cached group answer."""
        if self._access is not None:
            self._access.cache.clear()

    def _fetch_keys(self) -> KeyRing:
        """The service's public keys; an empty ring (every lease refused) if unreachable."""
        try:
            with urllib.request.urlopen(self.jwks_url, timeout=JWKS_TIMEOUT) as answer:  # noqa: S310
                return KeyRing.from_jwks(json.loads(answer.read()))
        except (OSError, ValueError) as error:
            logger.warning("cannot fetch the public keys from %s: %s", self.jwks_url, error)
            return KeyRing()


class RemoteLoginBuilder(LoginBuilder):
    """:class:`~.decorators.LoginBuilder` for a Flask app on another host::

        login = RemoteLoginBuilder(base_url="http://localhost:8000",
                                   uri="ws://localhost:8001", credential=CREDENTIAL)
        login_required, login_optional = login.decorators

    The decorators behave exactly like the local ones (``kw``, ``flask.g.user``,
    blueprints, ``prefix``, ``group=``). ``prefix`` (where browsers find the login
    service) defaults to ``base_url``. The interface, and its channel connection,
    start on the first request.
    """

    def __init__(self, base_url: str, uri: str | Sequence[str], credential: str,
                 prefix: str | None = None,
                 **settings: Any) -> None:
        super().__init__(base_url if prefix is None else prefix, **settings)
        self._remote = (base_url, uri, credential)
        self._lock = threading.Lock()

    @property
    def interface(self) -> RemoteLoginInterface:  # type: ignore[override]
        if self._interface is None:
            with self._lock:
                if self._interface is None:
                    base_url, uri, credential = self._remote
                    # use(): the builder's slot is typed for the local interface
                    self.use(RemoteLoginInterface(base_url, uri, credential, **self._settings))
        return self._interface  # type: ignore[return-value]
