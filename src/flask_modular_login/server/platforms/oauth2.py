"""The OAuth 2 authorization-code flow for provider modules (flask-dance blueprints).

A provider module (:mod:`.google`, :mod:`.github`, :mod:`.facebook`, or one of
your own) offers ``NAME``, a flask-dance blueprint factory ``make_blueprint``,
``PROFILE_URL`` and a pure ``normalise(profile) -> Profile``. The login
service never registers that blueprint: flask-dance keeps a login's PKCE
values in attributes of the blueprint, shared by every request, so two
concurrent logins could swap verifiers. This module reads the blueprint's
endpoints and settings (and uses its requests session class, so flask-dance's
per-provider quirks still apply), and keeps everything one login needs in a
:class:`PendingAuthorization` that the view stores in the browser's own
session::

    provider = OAuth2Provider.from_module(github, creds)
    pending = begin_login(provider, redirect_uri)             # pure; randomness injectable
    # store pending.as_dict() in the session, redirect the browser to pending.url
    ...
    result = complete_login(provider, pending, request.args)  # I/O: token, then profile
    result.profile                                            # result.token: drop unless kept

Errors (messages never contain the client secret, the code or a token); the
callback and token errors are also the shapes of :mod:`.authorization_code`::

    ProviderError                     provider_error          (from .profile)
    └── OAuth2Error                   oauth2_error
        ├── CallbackError             oauth2_callback         wrong state, no code
        │   └── AuthorizationDenied   oauth2_denied           ``error=`` (also a LoginDenied)
        ├── TokenExchangeError        oauth2_token_exchange   code refused, provider unreachable
        └── ProfileError              oauth2_profile          profile unreachable or unusable
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests
from flask_dance.consumer import OAuth2ConsumerBlueprint
from oauthlib.oauth2 import OAuth2Error as OAuthlibError

from . import authorization_code
from .authorization_code import (
    ERROR_CODE,
    MAX_BODY,
    TIMEOUT,
    add_query,
    callback_code,
    check_state,
    code_challenge,
    read_limited,
)
from .credentials import OAuthCredentials
from .profile import LoginResult, Profile, ProviderError

if TYPE_CHECKING:
    from requests_oauthlib import OAuth2Session

DROPPED_TOKEN_FIELDS = frozenset({"id_token"})
"""Never handed back: an ID token is large and says nothing the profile does not."""


class OAuth2Error(ProviderError):
    code = "oauth2_error"


class CallbackError(OAuth2Error, authorization_code.CallbackError):
    code = "oauth2_callback"


class AuthorizationDenied(CallbackError, authorization_code.AuthorizationDenied):
    """The provider sent the browser back with ``error=...``; ``error`` holds that code."""

    code = "oauth2_denied"


class TokenExchangeError(OAuth2Error, authorization_code.TokenExchangeError):
    """The token endpoint refused or could not be reached; ``error`` is its OAuth code."""

    code = "oauth2_token_exchange"


class ProfileError(OAuth2Error):
    code = "oauth2_profile"


@dataclass(frozen=True)
class OAuth2Provider:
    """One configured provider module: its blueprint is read, never registered."""

    name: str
    creds: OAuthCredentials
    blueprint: OAuth2ConsumerBlueprint = field(repr=False)
    profile_url: str
    normalise: Callable[[Any], Profile] = field(repr=False)

    @classmethod
    def from_module(cls, module: ModuleType, creds: OAuthCredentials) -> OAuth2Provider:
        """Build the module's blueprint with ``creds``."""
        blueprint = module.make_blueprint(creds)
        return cls(module.NAME, creds, blueprint, module.PROFILE_URL, module.normalise)

    def url(self, url: str) -> str:
        """``url`` resolved against the blueprint's ``base_url`` (as flask-dance does)."""
        return urljoin(self.blueprint.base_url or "", url)


@dataclass(frozen=True)
class PendingAuthorization:
    """One started login: keep :meth:`as_dict` in the login service's session."""

    state: str = field(repr=False)
    code_verifier: str | None = field(repr=False)
    redirect_uri: str
    url: str = field(default="", repr=False)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "state": self.state,
            "code_verifier": self.code_verifier,
            "redirect_uri": self.redirect_uri,
        }

    @classmethod
    def from_dict(cls, data: object) -> PendingAuthorization:
        """Rebuild from :meth:`as_dict`; :class:`CallbackError` if absent or malformed."""
        if not isinstance(data, Mapping) or not all(
            isinstance(data.get(name), str) and data.get(name) for name in ("state", "redirect_uri")
        ):
            raise CallbackError("no login was started in this browser (or it expired)")
        verifier = data.get("code_verifier")
        return cls(
            data["state"], verifier if isinstance(verifier, str) else None, data["redirect_uri"]
        )


# ---------------------------------------------------------------- authorization request


def begin_login(
    provider: OAuth2Provider,
    redirect_uri: str,
    *,
    token: Callable[[int], str] = secrets.token_urlsafe,
) -> PendingAuthorization:
    """Make ``state`` and (if the blueprint uses PKCE) a verifier, and the URL (pure)."""
    blueprint = provider.blueprint
    state = token(32)
    verifier = token(48) if blueprint.use_pkce else None
    params = {
        **{
            key: str(value)
            for key, value in blueprint.authorization_url_params.items()
            if value is not None
        },
        "response_type": "code",
        "client_id": provider.creds.id,
        "redirect_uri": redirect_uri,
        "state": state,
    }
    scope = scope_text(blueprint.scope)
    if scope:
        params["scope"] = scope
    if verifier is not None:
        params.update(code_challenge=code_challenge(verifier), code_challenge_method="S256")
    url = add_query(provider.url(blueprint.authorization_url), params)
    return PendingAuthorization(state, verifier, redirect_uri, url)


def scope_text(scope: str | Iterable[object] | None) -> str:
    """A scope list (or string) as the space-separated string OAuth sends."""
    if isinstance(scope, str):
        return scope
    return " ".join(str(item) for item in scope or ())


def parse_callback(params: Mapping[str, str], pending: PendingAuthorization) -> str:
    """The ``code`` of a callback, once ``state`` is checked (pure).

    Raises :class:`CallbackError`, or :class:`AuthorizationDenied` when the
    provider reports an error (a refused consent is ``access_denied``).
    """
    check_state(params, pending.state, CallbackError)
    return callback_code(params, CallbackError, AuthorizationDenied)


# ---------------------------------------------------------------- token and profile


def new_session(provider: OAuth2Provider, redirect_uri: str | None = None) -> OAuth2Session:
    """A requests session of the blueprint's class, for this login only (no shared state)."""
    blueprint = provider.blueprint
    session = blueprint.session_class(
        client_id=provider.creds.id,
        client=blueprint.client,
        scope=blueprint.scope,
        redirect_uri=redirect_uri,
        blueprint=blueprint,
        base_url=blueprint.base_url,
        **blueprint.kwargs,
    )
    session.token = {}  # never look in flask-dance's token storage
    return blueprint.session_created(session)


def exchange_code(
    provider: OAuth2Provider,
    pending: PendingAuthorization,
    code: str,
    *,
    timeout: float = TIMEOUT,
) -> dict[str, Any]:
    """Trade ``code`` (with the PKCE verifier) for a token. Raises :class:`TokenExchangeError`."""
    extra = dict(provider.blueprint.token_url_params)
    if pending.code_verifier is not None:
        extra["code_verifier"] = pending.code_verifier
    token_url = provider.url(provider.blueprint.token_url)
    try:
        with new_session(provider, pending.redirect_uri) as session:
            return session.fetch_token(
                token_url, code=code, client_secret=provider.creds.secret, timeout=timeout, **extra
            )
    except OAuthlibError as error:
        shown = error.error if ERROR_CODE.fullmatch(str(error.error)) else None
        message = f"{provider.name}: token endpoint: the code was refused ({shown})"
        raise TokenExchangeError(message, shown) from None
    except requests.RequestException as failure:
        host = urlsplit(token_url).hostname
        message = f"{provider.name}: token endpoint: cannot reach {host} ({type(failure).__name__})"
        raise TokenExchangeError(message) from None
    except (Warning, ValueError):  # oauthlib: scope changed, or an answer that is not a token
        raise TokenExchangeError(f"{provider.name}: token endpoint: unusable answer") from None


def fetch_profile(
    provider: OAuth2Provider, token: Mapping[str, Any], *, timeout: float = TIMEOUT
) -> Profile:
    """GET the profile with ``token`` and normalise it. Raises :class:`ProfileError`."""
    url = provider.url(provider.profile_url)
    try:
        with new_session(provider) as session:
            session.token = dict(token)
            with session.get(url, timeout=timeout, stream=True, allow_redirects=False) as answer:
                status, body = answer.status_code, read_limited(answer, MAX_BODY + 1)
    except (requests.RequestException, OAuthlibError) as failure:
        host = urlsplit(url).hostname
        raise ProfileError(
            f"{provider.name}: cannot read the profile from {host} ({type(failure).__name__})"
        ) from None
    return provider.normalise(profile_document(provider.name, status, body))


def profile_document(name: str, status: int, body: bytes) -> object:
    """The decoded profile answer, or :class:`ProfileError` (pure)."""
    if status != 200:
        raise ProfileError(f"{name}: the profile request answered HTTP {status}")
    if len(body) > MAX_BODY:
        raise ProfileError(f"{name}: the profile is too large")
    try:
        return json.loads(body)
    except ValueError:
        raise ProfileError(f"{name}: the profile is not JSON") from None


def complete_login(
    provider: OAuth2Provider,
    pending: PendingAuthorization,
    params: Mapping[str, str],
    *,
    timeout: float = TIMEOUT,
) -> LoginResult:
    """Check the callback ``params``, redeem the code, fetch the profile.

    The caller must drop ``pending`` from the session whatever happens (one try
    per login), and the returned token once it has no use for it.
    """
    code = parse_callback(params, pending)
    token = exchange_code(provider, pending, code, timeout=timeout)
    profile = fetch_profile(provider, token, timeout=timeout)
    kept = {key: value for key, value in token.items() if key not in DROPPED_TOKEN_FIELDS}
    return LoginResult(profile, kept)
