"""The account pages and their JSON twin: sessions (list, end one, end all others), linked
accounts (list, link, unlink) and the user's recent activity.

Sessions are named by a short, non-secret handle; a user can only see and end
their own (the store query is scoped to the user, not just to the handle). The
pages ask before ending a session, ending all others or unlinking an account:
each button leads to a confirmation page (GET) whose form makes the POST. The
JSON twin ``/sessions`` lists sessions, identities, providers to link and
activity in one answer, as it always did.
"""

from __future__ import annotations

import flask
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.wrappers import Response

from ..answers import done, login_first
from ..auth import current_auth, user_id
from ..csrf import csrf_token
from ..identities.names import display_name
from ..request_body import required_text
from ..state import current_state
from .devices import describe

HANDLE_LENGTH = 12
AUDIT_SHOWN = 20


def _listing() -> dict:
    state = current_state()
    auth = current_auth()
    assert auth.user is not None and auth.lease is not None  # noqa: S101 - login_first
    rows = state.store.sessions.active(auth.user["id"], state.authority.now())
    sessions = [{"handle": info.handle, "provider": info.provider, "device": info.user_agent,
                 "ip": info.ip, "signed_in": info.auth_time, "last_seen": info.last_seen,
                 "current": session_id == auth.lease.session_id}
                for session_id, info in rows]
    return {"user": auth.user, "sessions": sessions, "csrf_token": csrf_token(),
            **_identities(auth.user["id"]), "audit": _audit(auth.user["id"])}


def _audit(user_id: str) -> list[dict]:
    """The user's own recent audit events, newest first (never another user's: the query
    is scoped to the logged-in user). Who did it is "you", "operator" or "another user",
    never another user's id."""
    rows = current_state().store.audit.list(user_id=user_id, limit=AUDIT_SHOWN)
    return [{"at": row.created_at, "kind": row.kind, "detail": row.detail, "ip": row.ip,
             "by": "you" if row.actor_id == user_id
             else "operator" if row.actor_id is None else "another user"}
            for row in rows]


def _identities(user_id: str) -> dict:
    state = current_state()
    linked = [{"provider": i.provider, "subject": i.subject, "linked_at": i.created_at}
              for i in state.store.accounts.linked(user_id)]
    return {"identities": linked, "linkable": sorted(state.platforms)}


def _for_page(listing: dict) -> dict:
    """The listing with the names people read: devices, providers; the current session first."""
    for s in listing["sessions"]:
        s["device_name"] = describe(s["device"])
        s["provider_name"] = display_name(s["provider"])
    listing["sessions"].sort(key=lambda s: (not s["current"], -s["last_seen"]))
    for i in listing["identities"]:
        i["provider_name"] = display_name(i["provider"])
    linked = {i["provider"] for i in listing["identities"]}
    listing["linkable"] = [{"provider": name, "name": display_name(name)}
                           for name in listing["linkable"] if name not in linked]
    return listing


def sessions_page() -> Response | str:
    return (login_first(come_back=False)
            or flask.render_template("login/sessions.html", **_for_page(_listing())))


def accounts_page() -> Response | str:
    """GET: the accounts the user logs in with, and the providers they may still link."""
    return (login_first(come_back=False)
            or flask.render_template("login/accounts.html", **_for_page(_listing())))


def sessions_json() -> Response:
    return login_first(come_back=False) or flask.jsonify(_listing())


def confirm_end_session(handle: str) -> Response | str:
    """GET: "End the session on Firefox on Windows?" with the form that ends it."""
    refusal = login_first()
    if refusal:
        return refusal
    found = [s for s in _for_page(_listing())["sessions"] if s["handle"] == handle]
    if not found:
        raise NotFound("This session has already ended, or it is not one of yours.")
    return flask.render_template("login/confirm.html", kind="end_session", session=found[0],
                                 csrf_token=csrf_token())


def confirm_end_others() -> Response | str:
    """GET: "End all other sessions?" with the form that ends them."""
    refusal = login_first()
    if refusal:
        return refusal
    others = [s for s in _for_page(_listing())["sessions"] if not s["current"]]
    return flask.render_template("login/confirm.html", kind="end_others", others=others,
                                 csrf_token=csrf_token())


def end_session() -> Response:
    """POST ``handle``: end one of the user's own sessions."""
    refusal = login_first(come_back=False)
    if refusal:
        return refusal
    handle = required_text("handle")
    if len(handle) != HANDLE_LENGTH or not all(c in "0123456789abcdef" for c in handle):
        raise BadRequest("handle must be a session handle from the sessions list")
    if not current_state().sessions.end_by_handle(user_id(), handle,
                                                  ip=flask.request.remote_addr):
        return done("no such session of yours (already ended?)", _back(), 404, ended=0)
    return done("Session ended: that device is logged out.", _back(), ended=1)


def end_other_sessions() -> Response:
    """POST: end every session of the user but this one."""
    refusal = login_first(come_back=False)
    if refusal:
        return refusal
    auth = current_auth()
    assert auth.user is not None and auth.lease is not None  # noqa: S101 - login_first
    ended = current_state().sessions.end_others(auth.user["id"], keep=auth.lease.session_id,
                                                ip=flask.request.remote_addr)
    return done(f"{ended} other session(s) ended", _back(), ended=ended)


def _back() -> str:
    return flask.url_for("login.sessions_page")
