"""The URL rules of the invitation views (under the login blueprint, e.g. ``/login/access/...``).

HTML pages live under ``/access/view/``; each has a JSON twin without ``view``
whose endpoint ends in ``_json``. The accept link answers both (content
negotiation), since it is the one URL a QR code carries. Every state change is
a POST, checked for CSRF by the blueprint (:func:`.csrf.protect`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask

from . import accept_views, invite_views, membership_views, removal_views

ROUTES: tuple[tuple[str, str, Callable[..., Any], str], ...] = (
    ("/access/view/groups", "groups_page", membership_views.groups_page, "GET"),
    ("/access/groups", "groups_json", membership_views.groups_page, "GET"),
    ("/access/view/invite", "invite_page", invite_views.invite_page, "GET"),
    ("/access/view/invite", "create_invite", invite_views.create_invite, "POST"),
    ("/access/invite", "invite_json", invite_views.invite_page, "GET"),
    ("/access/invite", "create_invite_json", invite_views.create_invite, "POST"),
    ("/access/accept/<code>", "accept_page", accept_views.accept_page, "GET"),
    ("/access/accept/<code>", "accept_invite", accept_views.accept_invite, "POST"),
    ("/access/view/code", "code_page", accept_views.code_page, "GET"),
    ("/access/view/code", "enter_code", accept_views.enter_code, "POST"),
    ("/access/code", "enter_code_json", accept_views.enter_code, "POST"),
    ("/access/view/remove", "remove_page", removal_views.remove_page, "GET"),
    ("/access/view/remove", "remove_member", removal_views.remove_member, "POST"),
    ("/access/remove", "remove_json", removal_views.remove_page, "GET"),
    ("/access/remove", "remove_member_json", removal_views.remove_member, "POST"),
    ("/access/view/renege", "renege_page", removal_views.renege_page, "GET"),
    ("/access/view/renege", "renege_invite", removal_views.renege_invite, "POST"),
    ("/access/renege", "renege_json", removal_views.renege_page, "GET"),
    ("/access/renege", "renege_invite_json", removal_views.renege_invite, "POST"),
)


def register(blueprint: flask.Blueprint) -> None:
    """Add the invitation views to the login ``blueprint``."""
    for rule, endpoint, view, method in ROUTES:
        blueprint.add_url_rule(rule, endpoint, view, methods=[method])
