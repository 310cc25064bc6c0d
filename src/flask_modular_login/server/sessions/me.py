"""``GET /login/me``: who is logged in, as JSON, for scripts and single-page apps.

The cookie is checked as on every page of the service (its lease renewed when it
ran out); the answer holds the user and when the lease ends, or 401.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from ...negotiation import json_error
from ..auth import current_auth


def me() -> Response | dict:
    auth = current_auth()
    if auth.user is None or auth.lease is None:
        return json_error(401, "login_required", "log in first")
    return {"user": auth.user, "lease_expires_at": auth.lease.expires_at,
            "session_expires_at": auth.lease.session_expires_at}
