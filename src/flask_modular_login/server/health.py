"""``GET <prefix>/health`` (readiness) and ``GET <prefix>/health/live`` (liveness).

``/health/live`` answers 200 whenever the process answers at all. ``/health``
asks every part the service needs (:func:`..ops.health.check`): 200 with
``{"status": "up", "parts": {...}}`` when all are up, else 503 with
``"status": "down"`` and the part that is down; never a secret or a path. Both
are GETs (no CSRF check), outside every rate limit, and ``Cache-Control:
no-store`` like every answer of the service.
"""

from __future__ import annotations

import flask
from werkzeug.wrappers import Response

from ..ops import health
from .state import current_state


def register(app: flask.Flask, url_prefix: str) -> None:
    """Add both routes to ``app`` under ``url_prefix`` (endpoints ``login_health``,
    ``login_health_live``), beside the login blueprint and outside its request checks."""
    app.add_url_rule(f"{url_prefix}/health", "login_health", ready, methods=["GET"])
    app.add_url_rule(f"{url_prefix}/health/live", "login_health_live", live, methods=["GET"])


def live() -> Response:
    return flask.jsonify(status=health.UP)


def ready() -> Response:
    state = current_state()
    parts = health.check(state.services, state.settings)
    up = health.healthy(parts)
    response = flask.jsonify(status=health.UP if up else health.DOWN, parts=parts)
    response.status_code = 200 if up else 503
    return response
