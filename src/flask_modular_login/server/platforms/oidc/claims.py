"""The identity claims: completed by userinfo when needed, then made a :class:`Profile`.

The ID token's claims usually suffice; :func:`wants_userinfo` says when they
lack a name or a picture, :func:`fetch_userinfo` (I/O) asks the userinfo
endpoint with the access token, and :func:`merge_userinfo` completes the ID
token's claims (which win) provided both speak of the same ``sub``.
:func:`profile_from_claims` maps the result to a :class:`Profile`. All but
:func:`fetch_userinfo` are pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from ..authorization_code import TIMEOUT
from ..profile import Profile, make_profile
from .discovery import ProviderMetadata
from .errors import UserInfoError
from .transport import request_json


def wants_userinfo(claims: Mapping[str, Any]) -> bool:
    """Whether the ID token lacks the name or the picture."""
    named = any(isinstance(claims.get(key), str) for key in ("name", "preferred_username"))
    return not named or "picture" not in claims


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


def profile_from_claims(provider: str, claims: Mapping[str, Any]) -> Profile:
    """``sub``; ``name``, else ``preferred_username``, else given + family name; ``picture``."""
    given = " ".join(
        part
        for part in (claims.get("given_name"), claims.get("family_name"))
        if isinstance(part, str)
    )
    names = (claims.get("name"), claims.get("preferred_username"), given)
    return make_profile(provider, claims.get("sub"), names, claims.get("picture"))
