"""Headers on every answer of the login service, set in one place.

* ``X-Frame-Options: DENY`` and ``Content-Security-Policy: frame-ancestors 'none'``:
  no page of the service may be framed (clickjacking the Join, Log out or Unlink
  buttons). A view that sets a richer policy keeps its directives; its
  ``frame-ancestors``, if any, becomes ``'none'``.
* ``X-Content-Type-Options: nosniff``.
* ``X-API-Version: 1``, the version of the HTTP API (:mod:`.api_version`).
* ``Referrer-Policy: strict-origin``: a page's URL may hold a bearer secret (the
  accept link's invite code), so pages opened from it (the invite's redirect, a
  provider) learn only the service's origin. Not ``no-referrer``: browsers then
  send ``Origin: null`` on form posts, which the CSRF check refuses.
* ``Cache-Control: no-store``: pages and JSON show sessions, IPs, devices, CSRF
  tokens, invite codes; no cache may keep them. The one exception is a successful
  answer of the public key set (``/.well-known/jwks.json``): the same for everyone
  and secret to no one, its view lets caches keep it for a minute.

:func:`register` adds one ``after_request`` hook to the app. It covers the
answers under the service's prefix (errors and unknown URLs included); the
standalone app (:func:`.app.create_app`) is the login service as a whole, so
there it covers every answer (:func:`cover_whole_app`).
"""

from __future__ import annotations

from dataclasses import dataclass

import flask
from werkzeug.wrappers import Response

from .api_version import API_VERSION, HEADER

EXTENSION = "flask_modular_login.headers"
CACHEABLE_ENDPOINTS = frozenset({"login.jwks"})
FRAME_ANCESTORS = "frame-ancestors 'none'"
FIXED = (("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
         ("Referrer-Policy", "strict-origin"), (HEADER, str(API_VERSION)))


@dataclass
class Scope:
    """Which answers of the app are the login service's."""

    prefix: str
    whole_app: bool = False

    def covers(self, path: str) -> bool:
        return self.whole_app or path == self.prefix or path.startswith(self.prefix + "/")


def register(app: flask.Flask, url_prefix: str) -> None:
    """Set the headers on the answers of ``app`` under ``url_prefix`` (once per app)."""
    scope = app.extensions.get(EXTENSION)
    if scope is None:
        app.extensions[EXTENSION] = Scope(url_prefix.rstrip("/"))
        app.after_request(_after_request)
    else:
        scope.prefix = url_prefix.rstrip("/")


def cover_whole_app(app: flask.Flask) -> None:
    """The app serves only the login service: every answer gets the headers."""
    app.extensions[EXTENSION].whole_app = True


def _after_request(response: Response) -> Response:
    scope: Scope = flask.current_app.extensions[EXTENSION]
    if scope.covers(flask.request.path):
        secure(response, cacheable=_cacheable(response))
    return response


def _cacheable(response: Response) -> bool:
    return response.status_code == 200 and flask.request.endpoint in CACHEABLE_ENDPOINTS


def secure(response: Response, cacheable: bool = False) -> Response:
    """Add the headers to ``response``; ``cacheable``: leave its Cache-Control alone."""
    headers = response.headers
    for name, value in FIXED:
        headers[name] = value
    policies = headers.getlist("Content-Security-Policy")
    headers.setlist("Content-Security-Policy",
                    [with_frame_ancestors(policy) for policy in policies] or [FRAME_ANCESTORS])
    if not cacheable:
        headers["Cache-Control"] = "no-store"
    return response


def with_frame_ancestors(policy: str) -> str:
    """``policy`` with ``frame-ancestors 'none'`` in place of any ``frame-ancestors``."""
    directives = [d.strip() for d in policy.split(";")]
    kept = [d for d in directives if d and d.split()[0].lower() != "frame-ancestors"]
    return "; ".join([*kept, FRAME_ANCESTORS])
