"""The public key set (``/.well-known/jwks.json``): the keys that verify leases."""

from __future__ import annotations

import flask
from werkzeug.wrappers import Response

from ..state import current_state


def jwks() -> Response:
    """The public keys that verify leases (RFC 7517); safe to publish, and the one answer of
    the service that caches may keep (a minute; see :mod:`..headers`)."""
    ring = current_state().verifier.keys
    response = flask.jsonify(ring.jwks())
    response.cache_control.public = True
    response.cache_control.max_age = 60
    return response
