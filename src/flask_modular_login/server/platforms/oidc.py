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

Not supported: client authentication by ``private_key_jwt`` (login.gov's only
method) or ``client_secret_jwt``; only ``client_secret_basic`` and
``client_secret_post``.

Errors (messages never contain the client secret, the code or a token)::

    ProviderError                provider_error       (from .profile)
    └── OIDCError                oidc_error
        ├── DiscoveryError       oidc_discovery       unreachable, malformed, other issuer
        ├── CallbackError        oidc_callback        wrong state, wrong iss, no code
        │   └── AuthorizationDenied  oidc_denied      ``error=`` (also a LoginDenied)
        ├── TokenExchangeError   oidc_token_exchange  code refused (replayed, bad verifier)
        ├── IdTokenError         oidc_id_token        malformed, a claim missing
        │   ├── AlgorithmRefused     oidc_id_token_alg        ``none``, HS*, not announced
        │   ├── UnknownKey           oidc_id_token_key        no usable key in the JWKS
        │   ├── SignatureInvalid     oidc_id_token_signature
        │   ├── IssuerMismatch       oidc_id_token_iss
        │   ├── AudienceMismatch     oidc_id_token_aud        ``aud``/``azp`` not this client
        │   ├── TokenExpired         oidc_id_token_expired    past ``exp`` (or ``iat`` ahead)
        │   └── NonceMismatch        oidc_id_token_nonce
        └── UserInfoError        oidc_userinfo        unreachable, or another ``sub``
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

import jwt
import requests

from .credentials import OIDCCredentials, url_problem
from .profile import LoginDenied, LoginResult, Profile, ProviderError, make_profile

ALLOWED_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
"""Asymmetric algorithms only: never ``none``, never HS* (the 'key' would be public)."""
KEY_TYPES = {
    "RS": ("RSA", None),
    "PS": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "EdDSA": ("OKP", None),
}
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
DISCOVERY_PATH = "/.well-known/openid-configuration"
TIMEOUT = 10.0
"""Seconds to wait for any answer of the provider."""
LEEWAY = 60
"""Seconds of clock skew tolerated on ``exp``, ``iat`` and ``nbf``."""
MAX_BODY = 1 << 20
"""Largest provider answer read, in bytes."""
ERROR_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class OIDCError(ProviderError):
    """Base of the OpenID Connect errors."""

    code = "oidc_error"


class DiscoveryError(OIDCError):
    code = "oidc_discovery"


class CallbackError(OIDCError):
    code = "oidc_callback"


class AuthorizationDenied(CallbackError, LoginDenied):
    """The provider sent the browser back with ``error=...``; ``error`` holds that code."""

    code = "oidc_denied"

    def __init__(self, message: str, error: str) -> None:
        super().__init__(message)
        self.error = error


class TokenExchangeError(OIDCError):
    """The token endpoint refused; ``error`` holds its OAuth error code (or ``None``)."""

    code = "oidc_token_exchange"

    def __init__(self, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


class IdTokenError(OIDCError):
    code = "oidc_id_token"


class AlgorithmRefused(IdTokenError):
    code = "oidc_id_token_alg"


class UnknownKey(IdTokenError):
    code = "oidc_id_token_key"


class SignatureInvalid(IdTokenError):
    code = "oidc_id_token_signature"


class IssuerMismatch(IdTokenError):
    code = "oidc_id_token_iss"


class AudienceMismatch(IdTokenError):
    code = "oidc_id_token_aud"


class TokenExpired(IdTokenError):
    code = "oidc_id_token_expired"


class NonceMismatch(IdTokenError):
    code = "oidc_id_token_nonce"


class UserInfoError(OIDCError):
    code = "oidc_userinfo"


@dataclass(frozen=True)
class ProviderMetadata:
    """What we use of an issuer's discovery document; build with :func:`parse_discovery`."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    signing_algorithms: tuple[str, ...]
    """Announced ID token algorithms that are also in :data:`ALLOWED_ALGORITHMS`."""
    token_auth_method: str
    """``client_secret_basic`` when announced, else ``client_secret_post``."""
    iss_parameter_supported: bool = False
    """RFC 9207: the callback must then carry ``iss``."""


@dataclass(frozen=True)
class PendingLogin:
    """One started login: keep it (minus ``url``) in the login service's session.

    ``state`` binds the callback to this browser, ``nonce`` the ID token to this
    login, and ``code_verifier`` (PKCE) the code to this client.
    """

    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    redirect_uri: str
    url: str = field(default="", repr=False)

    def as_dict(self) -> dict[str, str]:
        """The fields :meth:`from_dict` needs, for a session."""
        return {
            "state": self.state,
            "nonce": self.nonce,
            "code_verifier": self.code_verifier,
            "redirect_uri": self.redirect_uri,
        }

    @classmethod
    def from_dict(cls, data: object) -> PendingLogin:
        """Rebuild from :meth:`as_dict`; :class:`CallbackError` if absent or malformed."""
        names = ("state", "nonce", "code_verifier", "redirect_uri")
        if not isinstance(data, Mapping) or not all(
            isinstance(data.get(name), str) and data.get(name) for name in names
        ):
            raise CallbackError("no login was started in this browser (or it expired)")
        return cls(**{name: data[name] for name in names})


@dataclass(frozen=True)
class TokenResponse:
    """The token endpoint's answer; drop it once the profile is built."""

    id_token: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)


# ---------------------------------------------------------------- discovery


def discovery_url(issuer: str) -> str:
    """``{issuer}/.well-known/openid-configuration`` (a trailing ``/`` of the issuer dropped)."""
    return issuer.rstrip("/") + DISCOVERY_PATH


def fetch_metadata(
    issuer: str, *, http: requests.Session | None = None, timeout: float = TIMEOUT
) -> ProviderMetadata:
    """Fetch and check the discovery document of ``issuer``. Raises :class:`DiscoveryError`."""
    status, document = request_json(
        http,
        "GET",
        discovery_url(issuer),
        what="discovery",
        error=DiscoveryError,
        timeout=timeout,
    )
    if status != 200:
        raise DiscoveryError(f"discovery: {issuer} answered HTTP {status}")
    return parse_discovery(document, issuer)


def parse_discovery(document: object, issuer: str) -> ProviderMetadata:
    """Check a discovery document against the configured ``issuer`` (pure).

    Its ``issuer`` must equal ``issuer`` exactly; endpoints must be https (plain
    http only on localhost); it must announce an allowed signing algorithm and
    a client-secret authentication method we speak.
    """
    if not isinstance(document, Mapping):
        raise DiscoveryError(f"discovery: {issuer} did not answer a JSON object")
    if document.get("issuer") != issuer:
        raise DiscoveryError(f"discovery: the document's issuer is not {issuer!r}")
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=endpoint(document, "authorization_endpoint"),
        token_endpoint=endpoint(document, "token_endpoint"),
        jwks_uri=endpoint(document, "jwks_uri"),
        userinfo_endpoint=optional_endpoint(document, "userinfo_endpoint"),
        signing_algorithms=signing_algorithms(document),
        token_auth_method=token_auth_method(document),
        iss_parameter_supported=document.get("authorization_response_iss_parameter_supported")
        is True,
    )


def optional_endpoint(document: Mapping[str, Any], key: str) -> str | None:
    """The URL at ``key`` if the document has one, checked by :func:`endpoint`."""
    return None if document.get(key) is None else endpoint(document, key)


def endpoint(document: Mapping[str, Any], key: str) -> str:
    """The URL at ``key``, checked like an issuer (a query is allowed)."""
    url = document.get(key)
    problem = "is missing" if not isinstance(url, str) else endpoint_problem(url)
    if problem:
        raise DiscoveryError(f"discovery: {key} {problem}")
    return str(url)


def endpoint_problem(url: str) -> str | None:
    """Like :func:`~.credentials.url_problem`, but endpoints may carry a query."""
    parts = urlsplit(url)
    return url_problem(urlunsplit(parts._replace(query="")))


def signing_algorithms(document: Mapping[str, Any]) -> tuple[str, ...]:
    """Announced ``id_token_signing_alg_values_supported`` within the allowlist."""
    announced = document.get("id_token_signing_alg_values_supported")
    if not isinstance(announced, list):
        raise DiscoveryError("discovery: id_token_signing_alg_values_supported is missing")
    usable = tuple(alg for alg in announced if alg in ALLOWED_ALGORITHMS)
    if not usable:
        raise DiscoveryError("discovery: no ID token signing algorithm we accept is offered")
    return usable


def token_auth_method(document: Mapping[str, Any]) -> str:
    """``client_secret_basic`` if offered (the default when unannounced), else ``..._post``."""
    offered = document.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    for method in AUTH_METHODS:
        if isinstance(offered, list) and method in offered:
            return method
    raise DiscoveryError("discovery: neither client_secret_basic nor client_secret_post offered")


# ---------------------------------------------------------------- authorization request


def begin_login(
    metadata: ProviderMetadata,
    creds: OIDCCredentials,
    redirect_uri: str,
    *,
    extra: Mapping[str, str] | None = None,
    token: Callable[[int], str] = secrets.token_urlsafe,
) -> PendingLogin:
    """Make ``state``, ``nonce`` and a PKCE verifier, and the authorization URL (pure).

    ``extra`` adds parameters such as ``prompt`` or ``login_hint``; ``token`` is
    the randomness (``secrets.token_urlsafe``), a seam for tests.
    """
    pending = PendingLogin(
        state=token(32), nonce=token(32), code_verifier=token(48), redirect_uri=redirect_uri
    )
    params = {
        **(extra or {}),
        "response_type": "code",
        "client_id": creds.id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(creds.scopes),
        "state": pending.state,
        "nonce": pending.nonce,
        "code_challenge": code_challenge(pending.code_verifier),
        "code_challenge_method": "S256",
    }
    url = add_query(metadata.authorization_endpoint, params)
    return PendingLogin(**pending.as_dict(), url=url)


def code_challenge(verifier: str) -> str:
    """PKCE S256: base64url(sha256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def add_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` appended to the query it may already have."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


# ---------------------------------------------------------------- callback and token


def parse_callback(
    params: Mapping[str, str], pending: PendingLogin, metadata: ProviderMetadata
) -> str:
    """The ``code`` of a callback, once ``state`` and ``iss`` are checked (pure).

    Raises :class:`CallbackError`, or :class:`AuthorizationDenied` when the
    provider reports an error (a refused consent is ``access_denied``).
    """
    state = params.get("state")
    if not isinstance(state, str) or not hmac.compare_digest(
        state.encode(), pending.state.encode()
    ):
        raise CallbackError("the callback's state does not match this browser's login")
    iss = params.get("iss")
    if iss is not None and iss != metadata.issuer:
        raise CallbackError("the callback comes from another issuer (iss does not match)")
    if iss is None and metadata.iss_parameter_supported:
        raise CallbackError("the callback lacks the iss parameter its issuer promises")
    error = params.get("error")
    if error is not None:
        shown = error if ERROR_CODE.fullmatch(error) else "unknown"
        raise AuthorizationDenied(f"the provider refused the login ({shown})", shown)
    code = params.get("code")
    if not isinstance(code, str) or not code:
        raise CallbackError("the callback carries no code")
    return code


def exchange_code(
    metadata: ProviderMetadata,
    creds: OIDCCredentials,
    pending: PendingLogin,
    code: str,
    *,
    http: requests.Session | None = None,
    timeout: float = TIMEOUT,
) -> TokenResponse:
    """Trade ``code`` (with the PKCE verifier) for tokens. Raises :class:`TokenExchangeError`."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": pending.redirect_uri,
        "code_verifier": pending.code_verifier,
    }
    headers = {"Accept": "application/json"}
    if metadata.token_auth_method == "client_secret_basic":  # noqa: S105 (a method name)
        headers["Authorization"] = basic_authorization(creds.id, creds.secret)
    else:
        data.update(client_id=creds.id, client_secret=creds.secret)
    status, answer = request_json(
        http,
        "POST",
        metadata.token_endpoint,
        what="token endpoint",
        error=TokenExchangeError,
        timeout=timeout,
        data=data,
        headers=headers,
        allow_redirects=False,
    )
    return parse_token_response(status, answer)


def basic_authorization(client_id: str, secret: str) -> str:
    """RFC 6749 2.3.1: both parts form-urlencoded, then HTTP Basic."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def parse_token_response(status: int, answer: object) -> TokenResponse:
    """Check the token endpoint's answer (pure). Raises :class:`TokenExchangeError`."""
    if not isinstance(answer, Mapping):
        raise TokenExchangeError(f"token endpoint: answered HTTP {status} without a JSON object")
    if status != 200 or "error" in answer:
        error = answer.get("error")
        shown = error if isinstance(error, str) and ERROR_CODE.fullmatch(error) else None
        raise TokenExchangeError(f"token endpoint: the code was refused ({shown})", shown)
    id_token = answer.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise TokenExchangeError("token endpoint: the answer has no id_token")
    token_type = answer.get("token_type")
    access_token = answer.get("access_token")
    if not isinstance(access_token, str) or str(token_type).lower() != "bearer":
        access_token = None
    return TokenResponse(id_token=id_token, access_token=access_token)


# ---------------------------------------------------------------- ID token


def fetch_jwks(
    metadata: ProviderMetadata, *, http: requests.Session | None = None, timeout: float = TIMEOUT
) -> dict[str, Any]:
    """The issuer's JSON Web Key Set. Raises :class:`UnknownKey` if unusable."""
    status, jwks = request_json(
        http, "GET", metadata.jwks_uri, what="JWKS", error=UnknownKey, timeout=timeout
    )
    if status != 200 or not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise UnknownKey(f"JWKS: {metadata.jwks_uri} did not answer a key set")
    return jwks


def validate_id_token(
    token: str,
    *,
    jwks: Mapping[str, Any],
    metadata: ProviderMetadata,
    client_id: str,
    nonce: str,
    now: float | None = None,
    leeway: int = LEEWAY,
) -> dict[str, Any]:
    """The claims of ``token`` once every check passed (pure, given the JWKS).

    Checks, in order: the ``alg`` is announced and allowed; a key of the JWKS
    fits it (by ``kid``) and verifies the signature; ``iss`` equals the issuer;
    ``aud`` contains ``client_id`` (and ``azp``, if present or needed, equals
    it); ``exp``, ``iat`` (and ``nbf``) against ``now`` with ``leeway``; the
    ``nonce`` is this login's. Raises an :class:`IdTokenError`.
    """
    header = unverified_header(token)
    alg = header.get("alg")
    if alg not in metadata.signing_algorithms:
        raise AlgorithmRefused(f"ID token: algorithm {str(alg)[:16]!r} is not accepted")
    claims = verified_claims(
        token,
        alg,
        candidate_keys(jwks, alg, header.get("kid")),
        issuer=metadata.issuer,
        client_id=client_id,
    )
    check_audience(claims, client_id)
    check_times(claims, time.time() if now is None else now, leeway)
    check_nonce(claims, nonce)
    return claims


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, before any check. Raises :class:`IdTokenError` if malformed."""
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise IdTokenError("ID token: malformed") from None


def candidate_keys(jwks: Mapping[str, Any], alg: str, kid: object) -> list[jwt.PyJWK]:
    """Keys of ``jwks`` that may verify ``alg`` (matching ``kid`` when the token names one)."""
    keys = jwks.get("keys")
    found = [
        key
        for key in (keys if isinstance(keys, list) else [])
        if isinstance(key, dict) and key_fits(key, alg) and (kid is None or key.get("kid") == kid)
    ]
    usable = [pyjwk for pyjwk in (load_key(key, alg) for key in found) if pyjwk is not None]
    if not usable:
        raise UnknownKey("ID token: no key of the issuer's JWKS fits it")
    return usable


def key_fits(key: Mapping[str, Any], alg: str) -> bool:
    """Whether a JWK's ``kty``/``crv``/``use``/``alg`` allow verifying ``alg``."""
    kty, crv = KEY_TYPES.get(alg, KEY_TYPES.get(alg[:2], (None, None)))
    return (
        key.get("kty") == kty
        and (crv is None or key.get("crv") == crv)
        and key.get("use", "sig") == "sig"
        and key.get("alg", alg) == alg
    )


def load_key(key: dict[str, Any], alg: str) -> jwt.PyJWK | None:
    """The JWK bound to ``alg``, or ``None`` if PyJWT cannot use it."""
    try:
        return jwt.PyJWK(key, algorithm=alg)
    except jwt.PyJWTError:
        return None


def verified_claims(
    token: str, alg: str, keys: Sequence[jwt.PyJWK], *, issuer: str, client_id: str
) -> dict[str, Any]:
    """Verify the signature with the first key that fits, then ``iss`` and ``aud``."""
    for key in keys[:-1]:
        try:
            return decode(token, key, alg, issuer=issuer, client_id=client_id)
        except SignatureInvalid:
            continue
    return decode(token, keys[-1], alg, issuer=issuer, client_id=client_id)


def decode(token: str, key: jwt.PyJWK, alg: str, *, issuer: str, client_id: str) -> dict[str, Any]:
    """PyJWT's decode with times left to :func:`check_times`; its errors mapped to ours."""
    options: Any = {
        "require": ["iss", "sub", "aud", "exp", "iat"],
        "verify_exp": False,
        "verify_iat": False,
        "verify_nbf": False,
        "enforce_minimum_key_length": True,
    }
    try:
        return jwt.decode(
            token, key, algorithms=[alg], audience=client_id, issuer=issuer, options=options
        )
    except jwt.PyJWTError as error:
        raise id_token_error(error) from None


def id_token_error(error: jwt.PyJWTError) -> IdTokenError:
    """Our error for one of PyJWT's (PyJWT's message is not passed on)."""
    if isinstance(error, jwt.InvalidSignatureError):
        return SignatureInvalid("ID token: the signature does not verify")
    if isinstance(error, jwt.InvalidAlgorithmError):
        return AlgorithmRefused("ID token: the algorithm does not fit the key")
    if isinstance(error, jwt.InvalidIssuerError):
        return IssuerMismatch("ID token: iss is not the configured issuer")
    if isinstance(error, jwt.InvalidAudienceError):
        return AudienceMismatch("ID token: aud is not this client")
    if isinstance(error, jwt.MissingRequiredClaimError):
        return IdTokenError(f"ID token: the {error.claim} claim is missing")
    if isinstance(error, jwt.InvalidKeyError):
        return UnknownKey("ID token: the issuer's key is unusable (too short?)")
    return IdTokenError("ID token: malformed or invalid")


def check_audience(claims: Mapping[str, Any], client_id: str) -> None:
    """``azp`` must be ``client_id`` when present, and present when ``aud`` has several."""
    aud = claims.get("aud")
    azp = claims.get("azp")
    several = isinstance(aud, list) and len(aud) > 1
    if (azp is not None or several) and azp != client_id:
        raise AudienceMismatch("ID token: azp is not this client")


def check_times(claims: Mapping[str, Any], now: float, leeway: int) -> None:
    """``exp`` not passed, ``iat`` and ``nbf`` not ahead, each within ``leeway`` seconds."""
    exp, iat, nbf = (claims.get(name) for name in ("exp", "iat", "nbf"))
    if not all(is_number(value) for value in (exp, iat)) or not (nbf is None or is_number(nbf)):
        raise IdTokenError("ID token: exp, iat or nbf is not a number")
    if now > exp + leeway:
        raise TokenExpired("ID token: expired")
    if iat > now + leeway or (nbf is not None and nbf > now + leeway):
        raise TokenExpired("ID token: issued in the future (is the clock right?)")


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_nonce(claims: Mapping[str, Any], nonce: str) -> None:
    """The ``nonce`` claim must equal this login's (constant-time)."""
    claim = claims.get("nonce")
    if not isinstance(claim, str) or not hmac.compare_digest(claim.encode(), nonce.encode()):
        raise NonceMismatch("ID token: nonce does not match this login")


# ---------------------------------------------------------------- userinfo and profile


def fetch_userinfo(
    metadata: ProviderMetadata,
    access_token: str,
    *,
    http: requests.Session | None = None,
    timeout: float = TIMEOUT,
) -> dict[str, Any]:
    """The userinfo claims (JSON only). Raises :class:`UserInfoError`."""
    if metadata.userinfo_endpoint is None:
        raise UserInfoError("userinfo: the issuer has no userinfo endpoint")
    status, claims = request_json(
        http,
        "GET",
        metadata.userinfo_endpoint,
        what="userinfo",
        error=UserInfoError,
        timeout=timeout,
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        allow_redirects=False,
    )
    if status != 200 or not isinstance(claims, dict):
        raise UserInfoError(f"userinfo: answered HTTP {status} without a JSON object")
    return claims


def merge_userinfo(claims: Mapping[str, Any], userinfo: Mapping[str, Any]) -> dict[str, Any]:
    """ID token claims completed by userinfo, whose ``sub`` must be the same (pure)."""
    if userinfo.get("sub") != claims.get("sub"):
        raise UserInfoError("userinfo: sub differs from the ID token's")
    return {**userinfo, **claims}


def wants_userinfo(claims: Mapping[str, Any]) -> bool:
    """Whether the ID token lacks the name or the picture."""
    named = any(isinstance(claims.get(key), str) for key in ("name", "preferred_username"))
    return not named or "picture" not in claims


def profile_from_claims(provider: str, claims: Mapping[str, Any]) -> Profile:
    """``sub``; ``name``, else ``preferred_username``, else given + family name; ``picture``."""
    given = " ".join(
        part
        for part in (claims.get("given_name"), claims.get("family_name"))
        if isinstance(part, str)
    )
    names = (claims.get("name"), claims.get("preferred_username"), given)
    return make_profile(provider, claims.get("sub"), names, claims.get("picture"))


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
    arguments = {"metadata": metadata, "client_id": client_id, "nonce": nonce, "now": now}
    try:
        return validate_id_token(id_token, jwks=keys(False), **arguments)
    except UnknownKey:
        return validate_id_token(id_token, jwks=keys(True), **arguments)


# ---------------------------------------------------------------- cache


class IssuerCache:
    """Discovery metadata and key sets per issuer, shared by all logins (thread-safe).

    Each is kept for ``ttl`` seconds (by ``clock``); :meth:`jwks` with
    ``refresh=True`` fetches the key set again at once (an ID token named a key
    the cached set lacks). A failed fetch is not cached.
    """

    def __init__(
        self,
        *,
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        http: requests.Session | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.ttl, self.clock, self.http, self.timeout = ttl, clock, http, timeout
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, Any]] = {}

    def metadata(self, issuer: str) -> ProviderMetadata:
        """The issuer's discovery metadata. Raises :class:`DiscoveryError`."""
        return self._get(
            ("metadata", issuer),
            False,
            lambda: fetch_metadata(issuer, http=self.http, timeout=self.timeout),
        )

    def jwks(self, metadata: ProviderMetadata, refresh: bool = False) -> Mapping[str, Any]:
        """The issuer's key set. Raises :class:`UnknownKey` if it cannot be fetched."""
        return self._get(
            ("jwks", metadata.issuer),
            refresh,
            lambda: fetch_jwks(metadata, http=self.http, timeout=self.timeout),
        )

    def _get(self, key: tuple[str, str], refresh: bool, fetch: Callable[[], Any]) -> Any:
        now = self.clock()
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None and not refresh and now < cached[0]:
            return cached[1]
        value = fetch()
        with self._lock:
            self._entries[key] = (now + self.ttl, value)
        return value


# ---------------------------------------------------------------- HTTP


@contextmanager
def session_for(http: requests.Session | None) -> Iterator[requests.Session]:
    """``http`` as is, or a fresh session closed afterwards."""
    if http is not None:
        yield http
        return
    with requests.Session() as fresh:
        yield fresh


def request_json(
    http: requests.Session | None,
    method: str,
    url: str,
    *,
    what: str,
    error: type[OIDCError],
    timeout: float,
    **kwargs: Any,
) -> tuple[int, object]:
    """``(status, decoded JSON body)``; ``error`` on network failure, huge or non-JSON body."""
    host = urlsplit(url).hostname or url
    try:
        with (
            session_for(http) as session,
            session.request(method, url, timeout=timeout, stream=True, **kwargs) as response,
        ):
            status = response.status_code
            body = read_limited(response, MAX_BODY + 1)
    except requests.RequestException as failure:
        raise error(f"{what}: cannot reach {host} ({type(failure).__name__})") from None
    if len(body) > MAX_BODY:
        raise error(f"{what}: the answer of {host} is too large")
    try:
        return status, json.loads(body)
    except ValueError:
        raise error(f"{what}: {host} answered HTTP {status} without JSON") from None


def read_limited(response: requests.Response, limit: int) -> bytes:
    """At most ``limit`` bytes of the (decoded) body."""
    body = bytearray()
    for chunk in response.iter_content(chunk_size=65536):
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])
