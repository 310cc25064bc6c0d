"""The sessions page and its JSON twin: list, end one, end all others; linked accounts.

Sessions are named by a short, non-secret handle; a user can only see and end
their own (the store query is scoped to the user, not just to the handle). The
page also lists the user's linked identities and the providers they may link
(see :mod:`.identity_views`).
"""

from __future__ import annotations

import flask
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from ..negotiation import json_error, wants_json
from . import request_body
from .auth import current_auth
from .csrf import csrf_token
from .errors import message_page
from .state import current_state

HANDLE_LENGTH = 12


def require_login(as_json: bool = False) -> Response | None:
    if current_auth().user is None:
        if as_json or wants_json() or flask.request.is_json:
            return json_error(401, "login_required", "log in first",
                              login=flask.url_for("login.login_page"))
        return flask.redirect(flask.url_for("login.login_page", next=flask.request.path))
    return None


def _listing() -> dict:
    state = current_state()
    auth = current_auth()
    assert auth.lease is not None  # noqa: S101 - guarded by require_login
    rows = state.store.sessions.active(auth.user["id"], state.authority.now())
    sessions = [{"handle": info.handle, "provider": info.provider, "device": info.user_agent,
                 "ip": info.ip, "signed_in": info.auth_time, "last_seen": info.last_seen,
                 "current": session_id == auth.lease.session_id}
                for session_id, info in rows]
    return {"user": auth.user, "sessions": sessions, "csrf_token": csrf_token(),
            **_identities(auth.user["id"])}


def _identities(user_id: str) -> dict:
    state = current_state()
    linked = [{"provider": i.provider, "subject": i.subject, "linked_at": i.created_at}
              for i in state.store.accounts.linked(user_id)]
    return {"identities": linked, "linkable": sorted(state.platforms)}


def sessions_page() -> Response | str:
    return require_login() or flask.render_template("login/sessions.html", **_listing())


def sessions_json() -> Response:
    return require_login(as_json=True) or flask.jsonify(_listing())


def end_session() -> Response:
    """POST ``handle``: end one of the user's own sessions."""
    refusal = require_login()
    if refusal:
        return refusal
    handle = form_value("handle")
    if len(handle) != HANDLE_LENGTH or not all(c in "0123456789abcdef" for c in handle):
        raise BadRequest("handle must be a session handle from the sessions list")
    if not current_state().sessions.end_by_handle(current_auth().user["id"], handle):
        return answer(404, "no such session of yours (already ended?)", ended=0)
    return answer(200, "session ended", ended=1)


def end_other_sessions() -> Response:
    """POST: end every session of the user but this one."""
    refusal = require_login()
    if refusal:
        return refusal
    auth = current_auth()
    ended = current_state().sessions.end_others(auth.user["id"], keep=auth.lease.session_id)
    return answer(200, f"{ended} other session(s) ended", ended=ended)


def form_value(name: str) -> str:
    """Text field ``name`` of the body (form or JSON object; :mod:`.request_body`), or 400."""
    value = request_body.fields().get(name)
    if not isinstance(value, str):
        raise BadRequest(f"{name} is required")
    return value


def answer(status: int, message: str, **extra: object) -> Response:
    if wants_json() or flask.request.is_json:
        response = flask.jsonify(message=message, **extra)
        response.status_code = status
        return response
    if status >= 400:
        return message_page(status, message)
    flask.flash(message)
    return flask.redirect(flask.url_for("login.sessions_page"))
