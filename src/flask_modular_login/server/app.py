"""``create_app()``: the standalone login service (``sh server.sh debug`` / uwsgi)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import flask
from werkzeug.wrappers import Response

from ..config import Settings
from ..ops import security_log
from ..ops.proxies import trust_proxies
from . import errors, headers, health, metrics
from .blueprint import LoginBlueprint

MAX_BODY_BYTES = 64 * 1024


def create_app(config: Mapping[str, Any] | None = None,
               clock: Callable[[], float] = time.time) -> flask.Flask:
    """A Flask app serving only the login service.

    Settings come from ``config``, then ``LOGIN_...`` environment variables. The
    Flask secret (for the service's own session cookie: CSRF and OAuth state) is
    kept in ``run/flask_secret`` at mode 0600, created on first start (by
    :class:`LoginBlueprint`, as on any app without a ``SECRET_KEY``). Request logs
    (werkzeug's, the app's, uwsgi's with ``uwsgi.ini``) mask invite codes and OAuth
    ``code``/``state`` (:mod:`.logs`).
    """
    app = flask.Flask(__name__)
    app.config.update(
        SESSION_COOKIE_NAME="login_state",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    app.config.update(config or {})
    state = LoginBlueprint(clock=clock).init_app(app)  # and SECRET_KEY, if not given
    app.config["SESSION_COOKIE_PATH"] = state.settings.url_prefix
    app.config["SESSION_COOKIE_SECURE"] = state.settings.cookie_secure
    errors.register(app)
    headers.cover_whole_app(app)  # every answer of this app is the login service's
    _operations(app, state.settings)

    @app.get("/")
    def index() -> Response:
        return flask.redirect(flask.url_for("login.sessions_page"))

    return app


def _operations(app: flask.Flask, settings: Settings) -> None:
    """Health checks, security log, metrics (``LOGIN_METRICS``) and the trusted proxies
    (``LOGIN_TRUSTED_PROXIES``): docs/deployment.md."""
    health.register(app, settings.url_prefix)
    security_log.connect()
    if settings.metrics:
        metrics.register(app, settings.url_prefix + settings.metrics)
    trust_proxies(app, settings.trusted_proxies)
