"""What an issuer publishes about itself: its discovery document and its key set.

:func:`parse_discovery` (pure) checks a discovery document against the
configured issuer and keeps what we use as :class:`ProviderMetadata`;
:func:`fetch_metadata` and :func:`fetch_jwks` (I/O) get the document and the
JSON Web Key Set. Callers normally go through :class:`~.IssuerCache`, which
keeps both per issuer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from ..authorization_code import TIMEOUT
from ..credentials import url_problem
from .errors import DiscoveryError, UnknownKey
from .transport import request_json

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
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
DISCOVERY_PATH = "/.well-known/openid-configuration"


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
    """Like :func:`~..credentials.url_problem`, but endpoints may carry a query."""
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
