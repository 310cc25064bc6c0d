"""The ``test`` provider (debug only): pick a username, be logged in as it.

Registered only when ``LOGIN_DEBUG`` is on; otherwise its URLs answer 404.
The identity is ("test", username), so two browsers choosing the same name are
the same user, which is what a developer trying the service wants.
"""

from __future__ import annotations

import flask
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from .. import request_body
from ..sessions import login_flow

NAME = "test"
MAX_USERNAME = 64


def start() -> str:
    """GET: the form, with the visitor's IP as the default username."""
    login_flow.remember_next(flask.request.args.get("next"))
    return flask.render_template(
        "login/test_login.html", default=flask.request.remote_addr or "test-user"
    )


def finish() -> Response:
    """POST ``username``: log in as ("test", username)."""
    username = _username()
    return login_flow.complete_login(NAME, username, username, None)


def _username() -> str:
    value = request_body.fields().get("username", "")
    if not isinstance(value, str):
        raise BadRequest("username must be text")
    value = value.strip()
    if not value or len(value) > MAX_USERNAME or not value.isprintable():
        raise BadRequest(f"username must be 1 to {MAX_USERNAME} printable characters")
    return value


def register(blueprint: flask.Blueprint) -> dict[str, str]:
    """Add the provider's routes; returns {provider name: endpoint that starts a login}."""
    blueprint.add_url_rule("/test/", "test_login", start, methods=["GET"])
    blueprint.add_url_rule("/test/", "test_login_finish", finish, methods=["POST"])
    return {NAME: "login.test_login"}
