"""The login page (and its JSON list of providers), and logout."""

from __future__ import annotations

import flask
from werkzeug.wrappers import Response

from ...cookies import cookie_flags
from ...negotiation import wants_json
from .. import request_body
from ..auth import current_auth
from ..state import current_state
from . import login_flow


def login_page() -> Response | str:
    """Providers to log in with; ``next`` is kept only if the allowlist admits it."""
    state = current_state()
    target = login_flow.checked_next(flask.request.args.get("next"))
    auth = current_auth()
    if auth.user is not None and target is not None:
        return flask.redirect(target)
    links = [{"name": name, "url": flask.url_for(endpoint, next=target)}
             for name, endpoint in sorted(state.providers.items())]
    if wants_json():
        return flask.jsonify(providers=links, user=auth.user)
    return flask.render_template("login/login.html", providers=links, user=auth.user)


def providers_json() -> Response:
    state = current_state()
    names = sorted(state.providers)
    return flask.jsonify(providers=[{"name": n, "url": flask.url_for(state.providers[n])}
                                    for n in names])


def logout() -> Response:
    """POST: end this browser's session on the server and clear its cookie."""
    next_target = request_body.fields().get("next")  # a bad body is refused before anything
    state = current_state()
    auth = current_auth()
    if auth.lease is not None:
        login_flow.end_session(auth.lease.session_id, "logout")
    response: Response
    if wants_json():
        response = flask.jsonify(logged_out=True)
    else:
        target = login_flow.checked_next(next_target)
        response = flask.redirect(target or flask.url_for("login.login_page"))
    response.delete_cookie(state.settings.cookie_name, **cookie_flags(state.settings))
    return response
