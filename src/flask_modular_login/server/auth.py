"""Who is logged in, for the login service's own pages: its own check of the ``login`` cookie.

The service is the authority, so it asks the store rather than a revocation feed:
the lease's signature is checked with the public keys (cached per token), its
session must be live in the store (one indexed read; the service's pages are
few and rarely hit), and an expired lease is renewed through the session service.
Checked once per request; a renewed cookie is set, a bad one deleted.
"""

from __future__ import annotations

import functools

import flask
from werkzeug.wrappers import Response

from ..cookies import cookie_flags, lease_cookie
from ..core.errors import LeaseError, SessionEnded
from ..core.leases import ANONYMOUS, REJECTED, Authentication
from .state import LoginState, current_state

_G_KEY = "_flask_modular_login_service_auth"


def current_auth() -> Authentication:
    """The request's authentication, checked once per request (cookie renewed or cleared)."""
    g = flask.g._get_current_object()
    cached = g.__dict__.get(_G_KEY)
    if cached is None:
        state = current_state()
        cached = check(state, flask.request.cookies.get(state.settings.cookie_name))
        g.__dict__[_G_KEY] = cached
        if cached.renewed is not None or cached.clear_cookie:
            flask.after_this_request(functools.partial(_update_cookie, state, cached))
    return cached


def user_id() -> str:
    """The logged-in user's id, for views that made sure someone is logged in
    (:func:`.answers.login_first`, :func:`.answers.refusing`)."""
    user = current_auth().user
    assert user is not None  # noqa: S101 - guarded by login_first
    return user["id"]


def check(state: LoginState, token: str | None) -> Authentication:
    if not token:
        return ANONYMOUS
    try:
        lease = state.verifier.lease(token)
    except LeaseError:
        return REJECTED
    if state.sessions.now() < lease.expires_at:
        facts = state.store.sessions.facts(lease.session_id)
        if facts is not None and not facts.revoked:
            return Authentication(lease.user(), lease)
        state.verifier.forget(token)
        return REJECTED
    state.verifier.forget(token)
    try:  # the renewal checks the session itself, in its write transaction
        issued = state.sessions.renew(lease, ip=flask.request.remote_addr)
    except SessionEnded:
        return REJECTED
    return Authentication(issued.lease.user(), issued.lease, renewed=issued)


def _update_cookie(state: LoginState, auth: Authentication, response: Response) -> Response:
    if auth.renewed is not None:
        response.set_cookie(**lease_cookie(state.settings, auth.renewed, state.sessions.now()))
    elif auth.clear_cookie:
        response.delete_cookie(state.settings.cookie_name, **cookie_flags(state.settings))
    return response
