"""Error answers of the login service: JSON for API requests, a page otherwise. Never a 500
for bad input: every client error becomes a 4xx with a message.

These answer the HTTP exceptions (werkzeug's, and the service's own: :class:`.csrf.CSRFError`,
:class:`.request_body.FieldError`, :class:`.api_version.UnsupportedVersion`), whose ``code``
is the HTTP status and whose stable error name is ``error`` (else werkzeug's name, e.g.
``not_found``). A view's refusals of the package's own errors (:class:`..core.errors.LoginError`)
are answered by :mod:`.answers`.
"""

from __future__ import annotations

import flask
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ..negotiation import json_error, wants_json


def message_page(status: int, message: str) -> Response:
    body = flask.render_template("login/message.html", status=status, message=message)
    return flask.make_response(body, status)


def http_error(error: HTTPException) -> Response:
    status = error.code or 500
    message = error.description or error.name
    # By the request alone, not by :func:`.answers.json_wanted`: an error raised before a
    # view (CSRF, a bad body, an unknown URL) on a ``_json`` URL answers a page to a form post.
    if wants_json() or flask.request.is_json:
        field = getattr(error, "field", None)  # a bad body or field (.request_body)
        extra = {"field": field} if isinstance(field, str) else {}
        code = getattr(error, "error", None) or error.name.lower().replace(" ", "_")
        return json_error(status, code, message, **extra, **getattr(error, "extra", {}))
    return message_page(status, message)


def register(target: flask.Flask | flask.Blueprint) -> None:
    """Answer errors of ``target`` (a whole app, or only the login blueprint's routes)."""
    target.register_error_handler(HTTPException, http_error)
