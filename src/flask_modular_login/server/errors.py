"""Error answers of the login service: JSON for API requests, a page otherwise. Never a 500
for bad input: every client error becomes a 4xx with a message.

These answer the HTTP exceptions (werkzeug's, and the service's own: :class:`.csrf.CSRFError`,
:class:`.request_body.FieldError`, :class:`.api_version.UnsupportedVersion`), whose ``code``
is the HTTP status and whose stable error name is ``error`` (else werkzeug's name, e.g.
``not_found``). A view's refusals of the package's own errors (:class:`..core.errors.LoginError`)
are answered by :mod:`.answers`.

The user database unreachable (PostgreSQL restarting, the network cut, every pooled
connection taken, the write lock not had in time) answers 503 ``database_unavailable``
with ``Retry-After``, never a 500: the failed transaction was rolled back, so nothing
was half-written, and the next request uses a new connection. Other database errors
stay 500s (bugs).
"""

from __future__ import annotations

import logging

import flask
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, ServiceUnavailable
from werkzeug.wrappers import Response

from ..negotiation import json_error, wants_json
from .refusals import explain


def message_page(status: int, message: str, code: str | None = None) -> Response:
    """The refusal page: a headline for ``code`` (else for ``status``), ``message``, and
    links onward (:func:`.refusals.explain`)."""
    body = flask.render_template("login/message.html", status=status, message=message,
                                 **explain(status, code))
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
    return message_page(status, message, getattr(error, "error", None))


class DatabaseUnavailable(ServiceUnavailable):
    """503: the user database cannot be reached now."""

    error = "database_unavailable"
    description = ("The login service cannot reach its database right now. Nothing was "
                   "changed; please try again in a moment.")


RETRY_AFTER_SECONDS = 5
logger = logging.getLogger("flask_modular_login.server")


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database is out of reach (not a bug of ours)."""
    return isinstance(error, OperationalError | PoolTimeout) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


def database_error(error: SQLAlchemyError) -> Response:
    """503 when the database is out of reach; any other database error stays a 500."""
    if not database_unavailable(error):
        raise error
    # The type only: the message may quote the statement and its parameters.
    cause = type(getattr(error, "orig", None) or error).__name__
    logger.warning("login service: the user database is unavailable (%s)", cause)
    response = http_error(DatabaseUnavailable())
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def register(target: flask.Flask | flask.Blueprint) -> None:
    """Answer errors of ``target`` (a whole app, or only the login blueprint's routes)."""
    target.register_error_handler(HTTPException, http_error)
    target.register_error_handler(SQLAlchemyError, database_error)
