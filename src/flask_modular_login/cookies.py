"""The ``login`` cookie's attributes, shared by the service and local clients."""

from __future__ import annotations

from typing import Any

from .config import Settings
from .core.leases import Issued


def cookie_flags(settings: Settings) -> dict[str, Any]:
    """Path, domain and flags shared by setting and deleting the cookie."""
    return {"path": "/", "domain": settings.cookie_domain, "secure": settings.cookie_secure,
            "httponly": True, "samesite": "Lax"}


def lease_cookie(settings: Settings, issued: Issued, now: float) -> dict[str, Any]:
    """Keyword arguments for ``response.set_cookie`` (Flask and aiohttp alike): the cookie
    lives as long as the session may."""
    max_age = max(0, issued.lease.session_expires_at - int(now))
    return {"key": settings.cookie_name, "value": issued.token, "max_age": max_age,
            **cookie_flags(settings)}
