"""Logging in, and linking accounts, through the configured OAuth and OpenID Connect providers.

Routes for each provider (``<path>`` is its name with ``.`` as ``/``: ``github``,
``oidc/keycloak``); the second is the redirect URI to register with it::

    GET  /login/<path>/             start a login (a checked ``next`` is kept)
    GET  /login/<path>/authorized   the provider sends the browser back: log in, or link
    POST /login/identities/link     ``provider``: a logged-in user links one more (CSRF)

What a started login needs (provider, mode, the linking user, the provider's
state, nonce and PKCE verifier) lives in the service's own session under
``login_pending``. The callback takes it out before anything else, so one start
allows one callback, whatever happens. A refusal is a page with a 4xx saying
why; it starts no session and logs nothing secret (provider error messages
never hold a secret, a code or a token). The provider's token is dropped once
the profile is read, unless ``LOGIN_KEEP_PROVIDER_TOKENS`` is on (see
:func:`provider_token`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import flask
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from ... import signals
from .. import answers
from ..answers import json_wanted, login_first, status_for
from ..auth import user_id
from ..errors import message_page
from ..platforms.profile import Profile, ProviderError
from ..request_body import required_text
from ..sessions import login_flow
from ..state import current_state
from . import linking

log = logging.getLogger(__name__)

PENDING_KEY = "login_pending"
TOKENS_KEY = "provider_tokens"
PENDING_SECONDS = 600
"""How long a started login may take, provider forms included."""
MODES = ("login", "link")


class StaleLogin(ProviderError):
    """No login with this provider was started in this browser, or it took too long."""

    code = "login_not_started"


@dataclass(frozen=True)
class Pending:
    """A started login, as kept in the service's session."""

    provider: str
    mode: str
    user: str | None
    started: int
    flow: Mapping[str, Any]

    @classmethod
    def parse(cls, saved: object, provider: str, now: int) -> Pending:
        """The pending login of ``provider`` from the session, or :class:`StaleLogin`."""
        if not isinstance(saved, Mapping) or saved.get("provider") != provider:
            raise StaleLogin(f"no login with {provider} was started in this browser")
        fields: dict[str, Any] = {key: saved.get(key) for key in cls.__dataclass_fields__}
        pending = cls(**fields)  # unchecked so far: checked below
        if not isinstance(pending.started, int) or now - pending.started > PENDING_SECONDS:
            raise StaleLogin(f"the login with {provider} took too long; please start again")
        if pending.mode not in MODES or not isinstance(pending.flow, Mapping):
            raise StaleLogin(f"no login with {provider} was started in this browser")
        return pending


def register(blueprint: flask.Blueprint, providers: Mapping[str, object]) -> dict[str, str]:
    """Add each provider's two routes (see :mod:`..urls`); {name: start endpoint}."""
    for name in providers:
        path = "/" + name.replace(".", "/")
        defaults = {"provider": name}
        blueprint.add_url_rule(f"{path}/", _endpoint("start", name), start, defaults=defaults)
        blueprint.add_url_rule(
            f"{path}/authorized", _endpoint("authorized", name), authorized, defaults=defaults
        )
    return {name: f"{blueprint.name}.{_endpoint('start', name)}" for name in providers}


def _endpoint(kind: str, name: str) -> str:
    return f"{kind}:{name.replace('.', ':')}"  # endpoints may not hold dots


def start(provider: str) -> Response:
    """GET: send the browser to ``provider`` to log in."""
    login_flow.remember_next(flask.request.args.get("next"))
    return begin(provider, "login", None)


def link() -> Response:
    """POST ``provider``: the logged-in user starts linking that provider to the account."""
    refusal = login_first(come_back=False)
    if refusal:
        return refusal
    name = required_text("provider")
    if name not in current_state().platforms:
        raise BadRequest("provider must be one of the configured providers")
    return begin(name, "link", user_id())


def begin(name: str, mode: str, user_id: str | None) -> Response:
    """Start ``name``'s flow in ``mode``; keep what the callback needs; redirect."""
    state = current_state()
    redirect_uri = flask.url_for(f".{_endpoint('authorized', name)}", _external=True)
    try:
        url, flow = state.platforms[name].begin(redirect_uri)
    except ProviderError as error:
        log.warning("login with %s cannot start: %s", name, error)
        message = f"Login with {name} is unavailable right now ({error})."
        if flask.request.method == "POST" and json_wanted():
            return answers.refuse(502, "provider_unavailable", message)
        return message_page(502, message)
    pending = Pending(name, mode, user_id, state.authority.now(), flow)
    flask.session[PENDING_KEY] = asdict(pending)
    if flask.request.method == "POST" and json_wanted():
        return flask.jsonify(location=url)
    return flask.redirect(url, 303 if flask.request.method == "POST" else 302)


def authorized(provider: str) -> Response:
    """GET: the provider sent the browser back; log in (or link), or say why not."""
    state = current_state()
    saved = flask.session.pop(PENDING_KEY, None)  # one callback per start, whatever happens
    try:
        pending = Pending.parse(saved, provider, state.authority.now())
        result = state.platforms[provider].finish(pending.flow, flask.request.args.to_dict())
    except ProviderError as error:
        return refuse(provider, error)
    response = act(pending, result.profile)
    if response.status_code < 400:
        keep_token(provider, result.token)
    return response


def act(pending: Pending, profile: Profile) -> Response:
    if pending.mode == "link":
        return linking.finish_link(pending.provider, pending.user, profile)
    return login_flow.complete_login(pending.provider, profile.subject, profile.name,
                                     profile.picture)


def refuse(provider: str, error: ProviderError) -> Response:
    """A page saying why the login failed: 403 when refused at the provider, else 400."""
    status = status_for(error)
    log.info("login with %s refused [%s]: %s", provider, error.code, error)
    signals.send(signals.login_refused, current_state().sessions, provider=provider,
                 reason=error.code, ip=flask.request.remote_addr)
    return message_page(status, f"Login with {provider} failed: {error}.")


def keep_token(provider: str, token: Mapping[str, Any] | None) -> None:
    """Keep the provider's token in the service's session, only if configured to."""
    if token and current_state().settings.keep_provider_tokens:
        kept = dict(flask.session.get(TOKENS_KEY) or {})
        kept[provider] = dict(token)
        flask.session[TOKENS_KEY] = kept


def provider_token(provider: str) -> dict[str, Any] | None:
    """The token of this browser's last login with ``provider`` (``LOGIN_KEEP_PROVIDER_TOKENS``).

    For views mounted on the login service (the token lives in its own session
    cookie, signed but not encrypted). ``None`` when tokens are not kept.
    """
    kept = flask.session.get(TOKENS_KEY)
    token = kept.get(provider) if isinstance(kept, Mapping) else None
    return dict(token) if isinstance(token, Mapping) else None
