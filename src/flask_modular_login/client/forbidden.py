"""The page a client app shows a logged-in person that a route's ``group=`` refuses.

"Signed in as bob — you are not in test_group", with links to log in as someone
else and to enter an invite code at the login service. Rendered only when the app
has no 403 handler of its own (for the route's blueprints or the app): an app
that registers one (``@app.errorhandler(403)``) keeps full control, and gets
``abort(403)`` as before. JSON requests get the 401 ``access_denied`` as before.
"""

from __future__ import annotations

from importlib import resources
from typing import Any
from urllib.parse import urlencode

import flask
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response

from ..core.groups import ExpressionSpec, GroupPath, resolve

_TEMPLATE = resources.files(__package__).joinpath("forbidden.html")


def has_own_handler() -> bool:
    """Whether the app (or the route's blueprint) answers 403 itself."""
    app = flask.current_app
    return app._find_error_handler(Forbidden(), flask.request.blueprints) is not None


def refused_group(group: ExpressionSpec, route_args: dict[str, Any],
                  user: dict[str, Any]) -> str | None:
    """The group a person lacks, when the route names exactly one; None otherwise."""
    try:
        expr = resolve(group, {**route_args, "user": user})
    except Exception:  # a callable that fails: name nothing (the check itself failed closed)
        return None
    return str(expr) if isinstance(expr, GroupPath) else None


def forbidden_page(user: dict[str, Any], group: str | None, login_url: str) -> Response:
    """The 403 page; ``login_url`` is the login service's login page (no query)."""
    base = login_url.split("?", 1)[0]
    switch = f"{base}?{urlencode({'next': flask.request.url, 'switch': '1'})}"
    code = f"{base.rstrip('/')}/access/view/code"
    body = flask.render_template_string(_TEMPLATE.read_text(encoding="utf-8"),
                                        name=user.get("name") or user.get("id"), group=group,
                                        switch_url=switch, code_url=code)
    return Response(body, 403, mimetype="text/html")
