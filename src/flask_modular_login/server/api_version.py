"""The version of the service's HTTP API: ``X-API-Version``.

Every answer of the service carries ``X-API-Version: 1`` (set with the other
headers, :mod:`.headers`). A request may name the version it speaks in the same
header; any other version than :data:`API_VERSION` is refused before anything
runs, with ``400 {"error": "unsupported_version", "supported": [1]}``, so a
client written for a later API learns it at once instead of misreading answers.
Without the header, version 1 is assumed.
"""

from __future__ import annotations

import flask
from werkzeug.exceptions import BadRequest

API_VERSION = 1
HEADER = "X-API-Version"


class UnsupportedVersion(BadRequest):
    """Another API version asked for: 400 ``unsupported_version`` (``code`` is the HTTP status;
    ``error`` the stable name, :func:`.errors.http_error`)."""

    error = "unsupported_version"
    extra = {"supported": [API_VERSION]}


def check() -> None:
    """``before_request`` hook: refuse a request for another API version (400)."""
    asked = flask.request.headers.get(HEADER)
    if asked is None or asked.strip() == str(API_VERSION):
        return
    error = UnsupportedVersion(f"this service speaks API version {API_VERSION}; "
                               f"{HEADER}: {asked[:20]!r} is not supported")
    error.field = HEADER  # type: ignore[attr-defined]
    raise error
