"""Keep bearer secrets out of the request logs that our own servers write.

An invite link (``.../access/accept/<code>``) is a bearer secret in the URL
path, and it also travels in ``next`` while a logged-out visitor logs in; an
OAuth callback (``.../authorized``) carries ``code`` and ``state`` in its query.
A request log would keep them all. :func:`mask` replaces each with ``***``.

:func:`guard_request_logs` (called by :meth:`.LoginBlueprint.init_app`, so every app
that mounts the service gets it) applies it:

* to werkzeug's request log (``flask-modular-login serve``, ``flask run``) and
  the app's own log (e.g. ``Exception on <path>``), with a logging filter;
* under uwsgi, by setting the log variable ``login_uri`` to the masked request
  URI on every request; ``uwsgi.ini``'s ``log-format`` logs it in place of the
  raw URI.

A proxy in front (nginx) writes its own log: docs/deployment.md shows a
``log_format`` for it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

import flask

MASK = "***"
UWSGI_LOGVAR = "login_uri"
"""The uwsgi log variable holding the masked request URI (``%(login_uri)`` in uwsgi.ini)."""

_SLASH = r"(?:/|%2F|%252F)+"
_ACCEPT = re.compile(rf"({_SLASH}access{_SLASH}accept{_SLASH})[^/?#&\s\"'<>]+", re.IGNORECASE)
_OAUTH = re.compile(r"([?&](?:code|state)=)[^&#\s\"'<>]+", re.IGNORECASE)


def mask(text: str) -> str:
    """``text`` with invite codes (also percent-encoded, as in ``next``) and the values of
    ``code`` and ``state`` query parameters replaced by ``***``."""
    lowered = text.lower()
    if "accept" not in lowered and "code=" not in lowered and "state=" not in lowered:
        return text  # the common case: nothing to look for
    return _OAUTH.sub(rf"\g<1>{MASK}", _ACCEPT.sub(rf"\g<1>{MASK}", text))


class MaskSecrets(logging.Filter):
    """Rewrites a record's message with :func:`mask`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_FILTER = MaskSecrets()


def guard_request_logs(app: flask.Flask) -> None:
    """Mask secrets in werkzeug's request log, ``app``'s log and (under uwsgi) uwsgi's
    request log; idempotent."""
    for logger in _loggers(app):
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    uwsgi = _uwsgi()
    if uwsgi is not None and not getattr(app.wsgi_app, "sets_uwsgi_logvar", False):
        app.wsgi_app = _with_uwsgi_logvar(app.wsgi_app, uwsgi.set_logvar)  # type: ignore[method-assign]


def _loggers(app: flask.Flask) -> Iterable[logging.Logger]:
    return (logging.getLogger("werkzeug"), app.logger)


def _uwsgi() -> Any:
    """The ``uwsgi`` module when running inside uwsgi, else None."""
    try:
        import uwsgi
    except ImportError:
        return None
    return uwsgi if hasattr(uwsgi, "set_logvar") else None


def _with_uwsgi_logvar(wsgi_app: Callable[..., Any],
                       set_logvar: Callable[[str, str], None]) -> Callable[..., Any]:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        uri = environ.get("REQUEST_URI")
        if not uri:
            query = environ.get("QUERY_STRING", "")
            uri = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
        set_logvar(UWSGI_LOGVAR, mask(uri))
        return wsgi_app(environ, start_response)

    application.sets_uwsgi_logvar = True  # type: ignore[attr-defined]
    return application
