"""A generic OpenID Connect relying party (authorization-code flow), usable without Flask.

The login view drives it in two halves; everything between them lives in the
login service's own session (:meth:`PendingLogin.as_dict`)::

    issuers = IssuerCache()                              # one per service: metadata, JWKS
    metadata = issuers.metadata(creds.issuer)            # I/O the first time
    pending = begin_login(metadata, creds, redirect_uri) # pure; randomness injectable
    # store pending.as_dict() in the session, redirect the browser to pending.url
    ...
    # the browser comes back to redirect_uri?code=...&state=...
    result = finish_login(metadata, creds, pending, request.args,
                          jwks=lambda refresh: issuers.jwks(metadata, refresh))   # I/O
    result.profile                                       # result.token: drop it unless kept

:func:`finish_login` (and :func:`complete_login`, which returns only the
profile) is :func:`parse_callback` (pure: ``state``, RFC 9207
``iss``, ``error``) + :func:`exchange_code` (I/O: code + PKCE verifier, client
authenticated by ``client_secret_basic`` or ``client_secret_post``) +
:func:`fetch_jwks` (I/O) + :func:`validate_id_token` (pure: signature,
``alg``, ``iss``, ``aud``/``azp``, ``exp``, ``iat``, ``nonce``) +
:func:`fetch_userinfo` (I/O, only when the ID token lacks a name or picture)
+ :func:`profile_from_claims` (pure). The ID token is never returned or kept;
the access token is handed back for the caller to drop (or keep, if configured).
An ID token signed by a key the cached JWKS lacks makes :func:`finish_login`
ask for the key set once more (the issuer rotated its keys).

This module holds only that composition and the :class:`IssuerCache`; each
step lives in a module of its own, and every public name is importable from
here. The steps are looked up in this module, so replacing one here (say
``exchange_code``) changes what :func:`finish_login` and :class:`IssuerCache` do.

=================== ====================================================
:mod:`.errors`      the error tree and its codes
:mod:`.discovery`   discovery document and key set (:class:`ProviderMetadata`)
:mod:`.pending`     authorization request and callback (:class:`PendingLogin`)
:mod:`.tokens`      code exchange (:class:`TokenResponse`)
:mod:`.id_token`    ID token validation (pure)
:mod:`.claims`      userinfo and the claims -> :class:`Profile` mapping
:mod:`.transport`   the JSON request every fetch goes through
=================== ====================================================

Not supported: client authentication by ``private_key_jwt`` (login.gov's only
method) or ``client_secret_jwt``; only ``client_secret_basic`` and
``client_secret_post``.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from ....cache import Cache, NullCache, cache_key
from ..authorization_code import MAX_BODY as MAX_BODY
from ..authorization_code import TIMEOUT as TIMEOUT
from ..credentials import OIDCCredentials
from ..profile import LoginResult, Profile
from .claims import fetch_userinfo as fetch_userinfo
from .claims import merge_userinfo as merge_userinfo
from .claims import profile_from_claims as profile_from_claims
from .claims import wants_userinfo as wants_userinfo
from .discovery import ALLOWED_ALGORITHMS as ALLOWED_ALGORITHMS
from .discovery import ProviderMetadata as ProviderMetadata
from .discovery import discovery_url as discovery_url
from .discovery import fetch_jwks as fetch_jwks
from .discovery import fetch_metadata as fetch_metadata
from .discovery import parse_discovery as parse_discovery
from .errors import AlgorithmRefused as AlgorithmRefused
from .errors import AudienceMismatch as AudienceMismatch
from .errors import AuthorizationDenied as AuthorizationDenied
from .errors import CallbackError as CallbackError
from .errors import DiscoveryError as DiscoveryError
from .errors import IdTokenError as IdTokenError
from .errors import IssuerMismatch as IssuerMismatch
from .errors import NonceMismatch as NonceMismatch
from .errors import OIDCError as OIDCError
from .errors import SignatureInvalid as SignatureInvalid
from .errors import TokenExchangeError as TokenExchangeError
from .errors import TokenExpired as TokenExpired
from .errors import UnknownKey as UnknownKey
from .errors import UserInfoError as UserInfoError
from .id_token import LEEWAY as LEEWAY
from .id_token import validate_id_token as validate_id_token
from .pending import PendingLogin as PendingLogin
from .pending import begin_login as begin_login
from .pending import parse_callback as parse_callback
from .tokens import TokenResponse as TokenResponse
from .tokens import basic_authorization as basic_authorization
from .tokens import exchange_code as exchange_code
from .tokens import parse_token_response as parse_token_response

__all__ = [
    "ALLOWED_ALGORITHMS",
    "LEEWAY",
    "MAX_BODY",
    "TIMEOUT",
    "AlgorithmRefused",
    "AudienceMismatch",
    "AuthorizationDenied",
    "CallbackError",
    "DiscoveryError",
    "IdTokenError",
    "IssuerCache",
    "IssuerMismatch",
    "KeySource",
    "NonceMismatch",
    "OIDCError",
    "PendingLogin",
    "ProviderMetadata",
    "SignatureInvalid",
    "TokenExchangeError",
    "TokenExpired",
    "TokenResponse",
    "UnknownKey",
    "UserInfoError",
    "basic_authorization",
    "begin_login",
    "checked_claims",
    "complete_login",
    "discovery_url",
    "exchange_code",
    "fetch_jwks",
    "fetch_metadata",
    "fetch_userinfo",
    "finish_login",
    "merge_userinfo",
    "parse_callback",
    "parse_discovery",
    "parse_token_response",
    "profile_from_claims",
    "validate_id_token",
    "wants_userinfo",
]

SHARED_VERSION = 1
"""Part of the shared cache's keys: bumped when what is shared changes shape."""

KeySource = Callable[[bool], Mapping[str, Any]]
"""``keys(refresh)``: the issuer's JWKS, fetched anew when ``refresh`` is true."""


def complete_login(
    metadata: ProviderMetadata,
    creds: OIDCCredentials,
    pending: PendingLogin,
    params: Mapping[str, str],
    *,
    http: requests.Session | None = None,
    timeout: float = TIMEOUT,
    now: float | None = None,
) -> Profile:
    """Check the callback ``params``, redeem the code, validate the ID token: the profile.

    The caller must drop ``pending`` from the session whatever happens (one try
    per login). Raises an :class:`OIDCError`; tokens are neither returned nor kept.
    """
    result = finish_login(metadata, creds, pending, params, http=http, timeout=timeout, now=now)
    return result.profile


def finish_login(
    metadata: ProviderMetadata,
    creds: OIDCCredentials,
    pending: PendingLogin,
    params: Mapping[str, str],
    *,
    http: requests.Session | None = None,
    timeout: float = TIMEOUT,
    now: float | None = None,
    jwks: KeySource | None = None,
) -> LoginResult:
    """:func:`complete_login`, also handing back the access token (never the ID token).

    ``jwks`` supplies the key set (e.g. :meth:`IssuerCache.jwks`); it is asked
    once more with ``refresh=True`` when no cached key fits the ID token.
    Without it, the key set is fetched for this login only.
    """
    code = parse_callback(params, pending, metadata)
    tokens = exchange_code(metadata, creds, pending, code, http=http, timeout=timeout)
    keys = jwks or (lambda _refresh: fetch_jwks(metadata, http=http, timeout=timeout))
    claims = checked_claims(tokens.id_token, metadata, creds.id, pending.nonce, keys, now)
    if tokens.access_token and metadata.userinfo_endpoint and wants_userinfo(claims):
        userinfo = fetch_userinfo(metadata, tokens.access_token, http=http, timeout=timeout)
        claims = merge_userinfo(claims, userinfo)
    kept = {"access_token": tokens.access_token} if tokens.access_token else None
    return LoginResult(profile_from_claims(f"oidc.{creds.name}", claims), kept)


def checked_claims(
    id_token: str,
    metadata: ProviderMetadata,
    client_id: str,
    nonce: str,
    keys: KeySource,
    now: float | None,
) -> dict[str, Any]:
    """:func:`validate_id_token`, with the key set fetched again once if no key fits."""
    def validate(refresh: bool) -> dict[str, Any]:
        return validate_id_token(id_token, jwks=keys(refresh), metadata=metadata,
                                 client_id=client_id, nonce=nonce, now=now)

    try:
        return validate(False)
    except UnknownKey:
        return validate(True)


class IssuerCache:
    """Discovery metadata and key sets per issuer, shared by all logins (thread-safe).

    Metadata is kept for ``ttl`` seconds, key sets for ``jwks_ttl`` (by ``clock``);
    :meth:`jwks` with ``refresh=True`` fetches the key set again at once (an ID
    token named a key the cached set lacks). A failed fetch is not cached.

    With a ``shared`` cache (memcached), a fetched document is also kept there for
    as long, so the other processes and hosts of the service fetch it from the
    issuer no more than once per TTL between them (a process may then keep its copy
    for one more TTL: at most twice the TTL in all). Only the document is shared
    (JSON); a value that does not fit is fetched again.
    """

    def __init__(
        self,
        *,
        ttl: float = 3600.0,
        jwks_ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        http: requests.Session | None = None,
        timeout: float = TIMEOUT,
        shared: Cache | None = None,
    ) -> None:
        self.ttl, self.clock, self.http, self.timeout = ttl, clock, http, timeout
        self.jwks_ttl = jwks_ttl
        self.shared: Cache = shared or NullCache()
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, Any]] = {}

    def metadata(self, issuer: str) -> ProviderMetadata:
        """The issuer's discovery metadata. Raises :class:`DiscoveryError`."""
        return self._get(
            ("metadata", issuer),
            False,
            lambda: fetch_metadata(issuer, http=self.http, timeout=self.timeout),
            self.ttl,
            _metadata,
        )

    def jwks(self, metadata: ProviderMetadata, refresh: bool = False) -> Mapping[str, Any]:
        """The issuer's key set. Raises :class:`UnknownKey` if it cannot be fetched."""
        return self._get(
            ("jwks", metadata.issuer),
            refresh,
            lambda: fetch_jwks(metadata, http=self.http, timeout=self.timeout),
            self.jwks_ttl,
            dict,
        )

    def _get(self, key: tuple[str, str], refresh: bool, fetch: Callable[[], Any],
             ttl: float, load: Callable[[Any], Any]) -> Any:
        now = self.clock()
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None and not refresh and now < cached[0]:
            return cached[1]
        shared_key = cache_key("oidc", SHARED_VERSION, *key)
        value = None if refresh else _loaded(self.shared.get(shared_key), load)
        if value is None:
            value = fetch()
            document = dataclasses.asdict(value) if isinstance(value, ProviderMetadata) \
                else value
            self.shared.set(shared_key, document, math.ceil(ttl))
        with self._lock:
            self._entries[key] = (now + ttl, value)
        return value


def _loaded(document: Any, load: Callable[[Any], Any]) -> Any:
    """``load(document)``; None when there is none or it does not fit (then fetch it)."""
    if document is None:
        return None
    try:
        return load(document)
    except (TypeError, KeyError, ValueError):
        return None


def _metadata(document: Mapping[str, Any]) -> ProviderMetadata:
    """:class:`ProviderMetadata` from its JSON form (raises TypeError or KeyError)."""
    fields = dict(document)
    fields["signing_algorithms"] = tuple(fields["signing_algorithms"])
    return ProviderMetadata(**fields)
