"""Starting and finishing a login, whatever the provider.

A provider's views call :func:`remember_next` when the login starts and
:func:`complete_login` once it knows who the user is at that provider.
"""

from __future__ import annotations

import flask
from werkzeug.exceptions import Conflict
from werkzeug.wrappers import Response

from ...cookies import lease_cookie
from ...core.errors import LeaseError, SessionEnded
from ...core.redirects import safe_next
from .. import csrf
from ..state import current_state

NEXT_KEY = "login_next"


def checked_next(target: object) -> str | None:
    """``target`` if the allowlist admits it as a post-login destination, else None."""
    settings = current_state().settings
    return safe_next(target, flask.request.host_url, settings.next_origins)


def remember_next(target: object) -> None:
    """Keep a safe ``next`` in the service's session across the provider round trip."""
    checked = checked_next(target)
    if checked is None:
        flask.session.pop(NEXT_KEY, None)
    else:
        flask.session[NEXT_KEY] = checked


def default_destination() -> str:
    return flask.url_for("login.sessions_page")


def complete_login(provider: str, subject: str, name: str, picture: str | None) -> Response:
    """Log the browser in as the user behind (provider, subject) and redirect onward.

    A new session is made every time; the browser's previous session (if any)
    ends, and the service's own session is reset so nothing from before login
    survives. The first lease comes from the transaction that writes the session,
    so a concurrent "end all other sessions" of the same user never fails the
    login: it comes before that transaction (the new session stays) or after it
    (the new session ends with the others, and this browser is logged out on its
    next request). If the user is removed meanwhile, the answer is 409.
    """
    state = current_state()
    destination = flask.session.get(NEXT_KEY) or default_destination()
    _end_previous_session()
    csrf.reset()
    user = state.store.accounts.login(provider, subject, name, picture, state.authority.now())
    try:
        issued = state.sessions.start(
            user.id, provider, ip=flask.request.remote_addr,
            user_agent=flask.request.headers.get("User-Agent"))
    except SessionEnded:
        raise Conflict("This account was removed while logging in.") from None
    response = flask.redirect(destination)
    response.set_cookie(**lease_cookie(state.settings, issued, state.sessions.now()))
    return response


def _end_previous_session() -> None:
    state = current_state()
    token = flask.request.cookies.get(state.settings.cookie_name)
    if not token:
        return
    try:
        lease = state.verifier.lease(token)
    except LeaseError:
        return
    end_session(lease.session_id, "relogin")


def end_session(session_id: str, reason: str) -> None:
    """End one session (every client refuses it at once where it listens, else within
    its poll)."""
    current_state().sessions.end(session_id, reason, ip=flask.request.remote_addr)
