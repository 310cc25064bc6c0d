"""The login page (and its JSON list of providers), and logout."""

from __future__ import annotations

import flask
from werkzeug.wrappers import Response

from ...cookies import cookie_flags
from ...negotiation import wants_json
from .. import request_body
from ..auth import current_auth
from ..identities.names import display_name
from ..state import current_state
from . import login_flow
from .reasons import login_reason

LOGGED_OUT = "You are logged out."


def login_page() -> Response | str:
    """Providers to log in with; ``next`` is kept only if the allowlist admits it.

    A logged-in visitor with a ``next`` goes there at once, unless ``switch=1`` asks
    to log in as someone else: the page then offers to log out first and come back.
    """
    state = current_state()
    target = login_flow.checked_next(flask.request.args.get("next"))
    switch = flask.request.args.get("switch") == "1"
    auth = current_auth()
    if auth.user is not None and target is not None and not switch:
        return flask.redirect(target)
    links = [{"name": name, "url": flask.url_for(endpoint, next=target)}
             for name, endpoint in sorted(state.providers.items())]
    if wants_json():
        return flask.jsonify(providers=links, user=auth.user)
    shown = [{**link, "label": display_name(link["name"])} for link in links]
    back = flask.url_for("login.login_page", next=target)
    return flask.render_template("login/login.html", providers=shown, user=auth.user,
                                 reason=login_reason(target), switch=switch, back=back)


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
        if target is None or _is_login_page(target):
            flask.flash(LOGGED_OUT)  # shown at once: the login page is the next page
        response = flask.redirect(target or flask.url_for("login.login_page"))
    response.delete_cookie(state.settings.cookie_name, **cookie_flags(state.settings))
    return response


def _is_login_page(target: str) -> bool:
    return target.split("?", 1)[0] == flask.url_for("login.login_page")
