"""Error answers of the login service: JSON for API requests, a page otherwise. Never a 500
for bad input: every client error becomes a 4xx with a message.

These answer the HTTP exceptions (werkzeug's, and the service's own: :class:`.csrf.CSRFError`,
:class:`.request_body.FieldError`, :class:`.api_version.UnsupportedVersion`), whose ``code``
is the HTTP status and whose stable error name is ``error`` (else werkzeug's name, e.g.
``not_found``). A view's refusals of the package's own errors (:class:`..core.errors.LoginError`)
are answered by :mod:`.answers`.

The user database out of reach or refusing writes answers 503 with ``Retry-After``, never
a 500: the failed transaction was rolled back, so nothing was half-written, and the next
request uses a new connection. By cause (:func:`database_fault`):

* ``database_busy``: the write lock not had in time (SQLite ``SQLITE_BUSY``/``LOCKED``
  after its busy timeout, PostgreSQL's ``lock_timeout``, the process's own write queue:
  :class:`~..store.database.WriteLockTimeout`); try again in a moment;
* ``database_read_only``: the database refuses writes (a file or file system made
  read-only, a PostgreSQL standby); reads keep working;
* ``storage_full``: the disk is full (``SQLITE_FULL``, PostgreSQL ``disk_full``); reads
  keep working;
* ``database_unavailable``: anything else out of reach (PostgreSQL restarting, the
  network cut, every pooled connection taken, an I/O error).

Other database errors stay 500s (bugs).
"""

from __future__ import annotations

import logging

import flask
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, ServiceUnavailable
from werkzeug.wrappers import Response

from ..negotiation import json_error, wants_json
from ..store.database import WriteLockTimeout
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
    retry_after = 5
    """Seconds in the answer's ``Retry-After``."""


class DatabaseBusy(DatabaseUnavailable):
    """503: another writer held the database's write lock for too long."""

    error = "database_busy"
    description = ("The login service's database is busy right now. Nothing was changed; "
                   "please try again in a moment.")
    retry_after = 2


class DatabaseReadOnly(DatabaseUnavailable):
    """503: the database refuses writes (read-only file, file system or standby)."""

    error = "database_read_only"
    description = ("The login service cannot save changes right now: its database is "
                   "read-only. Nothing was changed; pages that only show things still work.")
    retry_after = 60


class StorageFull(DatabaseUnavailable):
    """503: the disk that holds the database is full."""

    error = "storage_full"
    description = ("The login service cannot save changes right now: its storage is full. "
                   "Nothing was changed; pages that only show things still work.")
    retry_after = 60


RETRY_AFTER_SECONDS = DatabaseUnavailable.retry_after
logger = logging.getLogger("flask_modular_login.server")

_SQLITE_FAULTS: dict[str, type[DatabaseUnavailable]] = {
    "SQLITE_BUSY": DatabaseBusy, "SQLITE_LOCKED": DatabaseBusy,
    "SQLITE_READONLY": DatabaseReadOnly, "SQLITE_FULL": StorageFull}
"""By the primary result code (``SQLITE_BUSY_SNAPSHOT`` is a ``SQLITE_BUSY``)."""
_POSTGRESQL_FAULTS: dict[str, type[DatabaseUnavailable]] = {
    "55P03": DatabaseBusy,  # lock_not_available: lock_timeout ran out
    "25006": DatabaseReadOnly,  # read_only_sql_transaction: a standby, or read-only mode
    "53100": StorageFull}  # disk_full


def database_fault(error: BaseException) -> type[DatabaseUnavailable] | None:
    """The 503 that ``error`` calls for, or None when it is not the database's state but
    a bug of ours (see the module docstring)."""
    if isinstance(error, WriteLockTimeout):
        return DatabaseBusy
    orig = getattr(error, "orig", None)
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):
        for prefix, fault in _SQLITE_FAULTS.items():
            if name == prefix or name.startswith(prefix + "_"):
                return fault
    found = _POSTGRESQL_FAULTS.get(getattr(orig, "sqlstate", None) or "")
    if found is not None:
        return found
    if isinstance(error, OperationalError | PoolTimeout) or (
            isinstance(error, DBAPIError) and error.connection_invalidated):
        return DatabaseUnavailable
    return None


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database is out of reach or refuses writes (not a bug)."""
    return database_fault(error) is not None


def database_error(error: SQLAlchemyError) -> Response:
    """503 when the database is out of reach, busy, read-only or full; any other database
    error stays a 500."""
    fault = database_fault(error)
    if fault is None:
        raise error
    # The type and code only: the message may quote the statement and its parameters.
    orig = getattr(error, "orig", None)
    cause = type(orig or error).__name__
    detail = getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None)
    logger.warning("login service: the user database is unavailable (%s): %s%s", cause,
                   fault.error, f" ({detail})" if detail else "")
    response = http_error(fault())
    response.headers["Retry-After"] = str(fault.retry_after)
    return response


def register(target: flask.Flask | flask.Blueprint) -> None:
    """Answer errors of ``target`` (a whole app, or only the login blueprint's routes)."""
    target.register_error_handler(HTTPException, http_error)
    target.register_error_handler(SQLAlchemyError, database_error)
