"""Page or JSON: how the service and the client decorators tell an API call from a page load,
and the one shape of a JSON error (``{"error": code, "message": text, ...}``)."""

from __future__ import annotations

from typing import Any

import flask
from werkzeug.wrappers import Response


def wants_json() -> bool:
    """Whether the request is an API call (JSON Accept or XHR) rather than a page load."""
    request = flask.request
    if request.headers.get("X-Requested-With", "").lower() == "xmlhttprequest":
        return True
    accept = request.accept_mimetypes
    return accept["application/json"] > accept["text/html"]


def json_error(status: int, code: str, message: str, **extra: Any) -> Response:
    response = flask.jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    return response
