"""The code exchange: the callback's code (and PKCE verifier) traded for tokens.

:func:`exchange_code` (I/O) posts to the token endpoint, authenticating the
client by ``client_secret_basic`` or ``client_secret_post`` as discovery
chose; :func:`parse_token_response` (pure) judges the answer. The
:class:`TokenResponse` it yields is for :func:`~.id_token.validate_id_token`
and :func:`~.claims.fetch_userinfo`: drop it once the profile is built.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote_plus

import requests

from ..authorization_code import ERROR_CODE, TIMEOUT
from ..credentials import OIDCCredentials
from .discovery import ProviderMetadata
from .errors import TokenExchangeError
from .pending import PendingLogin
from .transport import request_json


@dataclass(frozen=True)
class TokenResponse:
    """The token endpoint's answer; drop it once the profile is built."""

    id_token: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)


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
