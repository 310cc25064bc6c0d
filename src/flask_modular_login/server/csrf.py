"""CSRF protection for every state-changing request of the login service.

The token lives in the service's own Flask session cookie (scoped to the login
path). A POST/PUT/PATCH/DELETE must carry it as the ``csrf_token`` form field or
the ``X-CSRF-Token`` header; a cross-origin ``Origin`` header is refused as well.
The form is read by :mod:`.request_body`, so a body that is no UTF-8 form is a 400.
"""

from __future__ import annotations

import hmac
import secrets

import flask
from werkzeug.exceptions import BadRequest

from . import request_body

SESSION_KEY = "csrf"
UNSAFE_METHODS = request_body.UNSAFE_METHODS


class CSRFError(BadRequest):
    """A forged or expired state change: 400 ``bad_request`` (``code`` is the HTTP status;
    ``error`` the stable name, :func:`.errors.http_error`)."""

    error = "bad_request"
    description = "The form expired or came from another site: reload the page and try again."


def csrf_token() -> str:
    """This browser's CSRF token, created on first use."""
    token = flask.session.get(SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        flask.session[SESSION_KEY] = token
    return token


def reset() -> None:
    """Forget everything the service's session held (at login: no fixation)."""
    flask.session.clear()


def protect() -> None:
    """``before_request`` hook: raise :class:`CSRFError` for a forged unsafe request."""
    request = flask.request
    if request.method not in UNSAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin is not None and origin != request.host_url.rstrip("/"):
        raise CSRFError("cross-origin request refused")
    expected = flask.session.get(SESSION_KEY)
    sent = request.headers.get("X-CSRF-Token") or request_body.form_field("csrf_token")
    if not isinstance(expected, str) or not isinstance(sent, str):
        raise CSRFError()
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CSRFError()
