"""What both authorization-code flows share: error shapes, PKCE, callback checks, bounded reads.

:mod:`.oauth2` (provider modules) and :mod:`.oidc` (OpenID Connect issuers)
speak the same grant (RFC 6749 section 4.1, with PKCE, RFC 7636). Each one
subclasses the error shapes below into its own tree, so an error's ``code``
names its flow (``oauth2_denied``, ``oidc_denied``); the shapes carry the
evidence (``error``) and let a caller catch, say, any refused callback.
Everything here is pure except :func:`read_limited`, which reads a response
the caller already holds.

Error shapes (only their subclasses are raised, each with its flow's code)::

    ProviderError                 (from .profile)
    ├── CallbackError             wrong state, no code
    │   └── AuthorizationDenied   ``error=`` (also a LoginDenied); ``error`` holds that code
    └── TokenExchangeError        code refused; ``error`` holds the OAuth code (or ``None``)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from .profile import LoginDenied, ProviderError

TIMEOUT = 10.0
"""Seconds to wait for any answer of the provider."""
MAX_BODY = 1 << 20
"""Largest provider answer read, in bytes."""
ERROR_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
"""An OAuth error code fit to show and log; any other ``error`` value is not repeated."""


class CallbackError(ProviderError):
    """The browser's callback does not finish the login this browser started."""


class AuthorizationDenied(CallbackError, LoginDenied):
    """The provider sent the browser back with ``error=...``; ``error`` holds that code."""

    def __init__(self, message: str, error: str) -> None:
        super().__init__(message)
        self.error = error


class TokenExchangeError(ProviderError):
    """The token endpoint refused the code; ``error`` holds its OAuth error code (or ``None``)."""

    def __init__(self, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


# ---------------------------------------------------------------- authorization request


def code_challenge(verifier: str) -> str:
    """PKCE S256: base64url(sha256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def add_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` appended to the query it may already have."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


# ---------------------------------------------------------------- callback


def check_state(params: Mapping[str, str], expected: str, refused: type[CallbackError]) -> None:
    """Raise ``refused`` unless the callback's ``state`` is ``expected`` (constant-time)."""
    state = params.get("state")
    if not isinstance(state, str) or not hmac.compare_digest(state.encode(), expected.encode()):
        raise refused("the callback's state does not match this browser's login")


def callback_code(
    params: Mapping[str, str],
    refused: type[CallbackError],
    denied: type[AuthorizationDenied],
) -> str:
    """The callback's ``code``, checked after its ``state`` (see :func:`check_state`).

    Raises ``denied`` when the provider reports ``error=`` (a refused consent
    is ``access_denied``; a malformed code is shown as ``unknown``), and
    ``refused`` when there is no code.
    """
    error = params.get("error")
    if error is not None:
        shown = error if ERROR_CODE.fullmatch(error) else "unknown"
        raise denied(f"the provider refused the login ({shown})", shown)
    code = params.get("code")
    if not isinstance(code, str) or not code:
        raise refused("the callback carries no code")
    return code


# ---------------------------------------------------------------- HTTP


def read_limited(response: requests.Response, limit: int) -> bytes:
    """At most ``limit`` bytes of the (decoded) body."""
    body = bytearray()
    for chunk in response.iter_content(chunk_size=65536):
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])
