"""Every URL rule of the login service, under its blueprint ``login`` (prefix
``LOGIN_URL_PREFIX``, default ``/login``).

:data:`RULES` is the fixed table: (rule, endpoint, view, method). A page and
its JSON twin share a view; the twin's endpoint ends in ``_json``, which makes
the view answer JSON (:func:`.answers.json_wanted`). The invitation pages live
under ``/access/view/`` and their twins drop ``view``; the accept link answers
both (content negotiation), since it is the one URL a QR code carries. Every
state change is a POST, checked for CSRF by the blueprint (:func:`.csrf.protect`).

:func:`register` adds the table, then the rules that depend on the settings,
each added by the module of its views::

    GET  /test/   POST /test/       the ``test`` provider, only with ``LOGIN_DEBUG``
                                    (:func:`.platforms.test.register`)
    GET  /<path>/                   each configured provider (``<path>`` is its name with
    GET  /<path>/authorized         ``.`` as ``/``: ``github``, ``oidc/keycloak``): start a
                                    login; the redirect URI to register with the provider
                                    (:func:`.identities.providers.register`)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import flask

from .identities import linking, providers
from .invitations import accept, create, groups, removal
from .platforms import test as test_platform
from .sessions import login, manage, me, public_keys

RULES: tuple[tuple[str, str, Callable[..., Any], str], ...] = (
    # logging in and out (sessions/)
    ("/", "login_page", login.login_page, "GET"),
    ("/providers", "providers_json", login.providers_json, "GET"),
    ("/me", "me_json", me.me, "GET"),
    ("/logout", "logout", login.logout, "POST"),
    ("/.well-known/jwks.json", "jwks", public_keys.jwks, "GET"),
    # the user's sessions (sessions/)
    ("/view/sessions", "sessions_page", manage.sessions_page, "GET"),
    ("/sessions", "sessions_json", manage.sessions_json, "GET"),
    ("/sessions/end", "end_session", manage.end_session, "POST"),
    ("/sessions/end-others", "end_other_sessions", manage.end_other_sessions, "POST"),
    ("/view/sessions/end/<handle>", "confirm_end_session", manage.confirm_end_session, "GET"),
    ("/view/sessions/end-others", "confirm_end_others", manage.confirm_end_others, "GET"),
    # linked accounts (identities/)
    ("/identities/link", "link_identity", providers.link, "POST"),
    ("/identities/unlink", "unlink_identity", linking.unlink, "POST"),
    ("/view/accounts", "accounts_page", manage.accounts_page, "GET"),
    ("/view/accounts/unlink", "confirm_unlink", linking.confirm_unlink, "GET"),
    # invitations (invitations/, docs/invitations.md)
    ("/access/view/groups", "groups_page", groups.groups_page, "GET"),
    ("/access/groups", "groups_json", groups.groups_page, "GET"),
    ("/access/view/invite", "invite_page", create.invite_page, "GET"),
    ("/access/view/invite", "create_invite", create.create_invite, "POST"),
    ("/access/view/invite/created", "invite_created", create.invite_created, "GET"),
    ("/access/invite", "invite_json", create.invite_page, "GET"),
    ("/access/invite", "create_invite_json", create.create_invite, "POST"),
    ("/access/accept/<code>", "accept_page", accept.accept_page, "GET"),
    ("/access/accept/<code>", "accept_invite", accept.accept_invite, "POST"),
    ("/access/view/code", "code_page", accept.code_page, "GET"),
    ("/access/view/code", "enter_code", accept.enter_code, "POST"),
    ("/access/code", "enter_code_json", accept.enter_code, "POST"),
    ("/access/view/remove", "remove_page", removal.remove_page, "GET"),
    ("/access/view/remove", "remove_member", removal.remove_member, "POST"),
    ("/access/remove", "remove_json", removal.remove_page, "GET"),
    ("/access/remove", "remove_member_json", removal.remove_member, "POST"),
    ("/access/view/renege", "renege_page", removal.renege_page, "GET"),
    ("/access/view/renege", "renege_invite", removal.renege_invite, "POST"),
    ("/access/renege", "renege_json", removal.renege_page, "GET"),
    ("/access/renege", "renege_invite_json", removal.renege_invite, "POST"),
)


def register(blueprint: flask.Blueprint, platforms: Mapping[str, object],
             debug: bool) -> dict[str, str]:
    """Add every rule to ``blueprint``: :data:`RULES`, the ``test`` provider's when
    ``debug``, each of ``platforms``'. Returns {provider name: endpoint that starts a login}."""
    for rule, endpoint, view, method in RULES:
        blueprint.add_url_rule(rule, endpoint, view, methods=[method])
    started = test_platform.register(blueprint) if debug else {}
    return {**started, **providers.register(blueprint, platforms)}
