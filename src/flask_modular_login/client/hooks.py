"""Any Python web framework: three hooks and ``await login(request)``.

Subclass ``LocalLoginInterface`` (same machine) or ``RemoteLoginInterface``
(another host) and say how your framework reads and writes cookies::

    class LoginBuilder(LocalLoginInterface):
        def remote_addr(self, request): return request.remote
        def get_cookie(self, request): return request.cookies.get("login")
        def set_cookie(self, value, request): request["login"] = value

    login = LoginBuilder()
    user = await login(request)                  # the user dict, or None
    user = await login(request, group=chat / "room")   # None unless allowed

``set_cookie`` receives a renewed lease to set on the response, or ``""`` to
clear a forged, garbage or ended cookie. The check runs in a worker thread
only when it may wait (a renewal, an uncached group check); a valid lease is
checked inline, without I/O. Any failure to decide means ``None`` (fail
closed), logged on ``flask_modular_login.access``, except one: a local app that
found no run directory of the service raises
:class:`~flask_modular_login.config.RunDirNotFound` from every call (logged once
on ``flask_modular_login.client``); answer it with a 503.
"""

from __future__ import annotations

import logging
from typing import Any

from ..config import RunDirNotFound
from ..core.groups import ExpressionSpec
from ..core.leases import Authentication
from .admission import admit

logger = logging.getLogger("flask_modular_login.access")


class FrameworkHooks:
    """The awaitable request check; subclasses provide ``authenticate`` and ``access``."""

    def remote_addr(self, request: Any) -> str | None:
        """The client's address (for the log); override for your framework."""
        return None

    def get_cookie(self, request: Any) -> str | None:
        """The value of the ``login`` cookie of ``request``; override for your framework."""
        raise NotImplementedError("override get_cookie(request) for your framework")

    def set_cookie(self, value: str, request: Any) -> None:
        """Arrange for the response to set the ``login`` cookie to ``value`` ("" clears it)."""
        raise NotImplementedError("override set_cookie(value, request) for your framework")

    async def __call__(self, request: Any, group: ExpressionSpec | None = None,
                       **route_args: Any) -> dict[str, Any] | None:
        """The logged-in user of ``request`` (allowed into ``group``, if given), or None."""
        try:
            auth = await self._authenticate(self.get_cookie(request))
        except RunDirNotFound:
            raise  # not set up: the app must say so (503), not treat everyone as logged out
        except Exception as error:  # fail closed, whatever went wrong
            logger.warning("login check failed closed for %s: %s: %s",
                           self.remote_addr(request) or "a request", type(error).__name__, error)
            return None
        if auth.renewed is not None:
            self.set_cookie(auth.renewed.token, request)
        elif auth.clear_cookie:
            self.set_cookie("", request)
        if auth.user is None or group is None:
            return auth.user
        import asyncio  # loaded by the app's own event loop already; not by Flask apps

        return await asyncio.to_thread(admit, self, group, route_args, auth.user,  # type: ignore[arg-type]
                                       self.remote_addr(request) or "")

    async def _authenticate(self, token: str | None) -> Authentication:
        if self.check_needs_no_wait(token):
            return self.authenticate(token)  # type: ignore[attr-defined]
        import asyncio

        return await asyncio.to_thread(self.authenticate, token)  # type: ignore[attr-defined]

    def check_needs_no_wait(self, token: str | None) -> bool:
        """Whether checking ``token`` is dict look-ups only (a valid lease seen before)."""
        return not token or self.verifier.cached(token, self.clock())  # type: ignore[attr-defined]
