"""``GET <prefix><LOGIN_METRICS>``: the Prometheus metrics (:mod:`..ops.metrics`).

Registered only when ``LOGIN_METRICS`` names a path; ``prometheus-client`` is
imported then, not before. The answer is public to whoever reaches the URL:
keep it off the internet (docs/deployment.md shows the nginx ``allow``/``deny``).
"""

from __future__ import annotations

import flask
from werkzeug.wrappers import Response

from .state import current_state


def register(app: flask.Flask, url: str) -> None:
    from ..ops import metrics

    metrics.connect()
    app.add_url_rule(url, "login_metrics", scrape, methods=["GET"])


def scrape() -> Response:
    from ..ops import metrics

    store = current_state().store
    return Response(metrics.render(store.events.cursor), content_type=metrics.CONTENT_TYPE_LATEST)
