"""Trust ``X-Forwarded-For`` and ``X-Forwarded-Proto`` from ``LOGIN_TRUSTED_PROXIES`` proxies.

Behind one nginx that sets both headers, ``request.remote_addr`` is nginx's
address unless the app believes the header; believing it without a proxy in
front lets any client name any address (the rate limits per IP, the sessions
page). With ``count`` = n, Werkzeug's ``ProxyFix`` takes the n-th address from
the right of ``X-Forwarded-For`` (the one the outermost trusted proxy saw) and
the scheme likewise; ``Host`` is never taken from a header. 0 trusts nothing.
"""

from __future__ import annotations

from typing import Any

import flask
from werkzeug.middleware.proxy_fix import ProxyFix

MARK = "flask_modular_login_trusted_proxies"


def trust_proxies(app: flask.Flask, count: int) -> None:
    """Wrap ``app.wsgi_app`` in ``ProxyFix`` for ``count`` proxies, once per app; 0 does
    nothing. A second call keeps the first count."""
    if count <= 0 or getattr(app.wsgi_app, MARK, None) is not None:
        return
    fixed = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
    setattr(fixed, MARK, count)
    app.wsgi_app = fixed  # type: ignore[method-assign]


def trust_request(app: flask.Flask, request: flask.Request, count: int) -> None:
    """For a client app, whose settings come with its first protected request: wrap the
    app (later requests) and apply the same fix to ``request``, if not fixed already."""
    if count <= 0:
        return
    trust_proxies(app, count)
    environ = request.environ
    if "werkzeug.proxy_fix.orig" in environ:
        return
    ProxyFix(_empty, x_for=count, x_proto=count)(environ, _no_start)  # type: ignore[arg-type]
    request.remote_addr = environ.get("REMOTE_ADDR")
    request.scheme = environ.get("wsgi.url_scheme", request.scheme)


def _empty(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    return []


def _no_start(*args: Any) -> None:
    return None
