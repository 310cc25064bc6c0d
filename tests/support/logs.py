"""Requests whose URLs carry bearer secrets, for the request-log tests."""

from __future__ import annotations

from urllib.parse import quote

CODE = "Zq3vX8kPq2LmN7rT5yWb1cDe4FgHj6Ks"  # the shape of an invite code, 32 characters
OAUTH_CODE, OAUTH_STATE = "oauth-code-4f9a2b", "oauth-state-77c1d0"

SECRET_PATHS = [
    f"/login/access/accept/{CODE}",
    f"/login/access/accept/{CODE}?x=1",
    f"/login/?next=/login/access/accept/{CODE}",
    f"/login/?next={quote(f'/login/access/accept/{CODE}', safe='')}",
    f"/login/test/?next={quote(quote(f'/login/access/accept/{CODE}', safe=''), safe='')}",
    f"/login/github/authorized?code={OAUTH_CODE}&state={OAUTH_STATE}",
    f"/login/oidc/alpha/authorized?state={OAUTH_STATE}&iss=x&code={OAUTH_CODE}",
]
"""Paths (with queries) that hold an invite code or OAuth ``code``/``state``."""


def secrets_in(text: str) -> list[str]:
    """The secrets of :data:`SECRET_PATHS` that ``text`` holds."""
    return [secret for secret in (CODE, OAUTH_CODE, OAUTH_STATE) if secret in text]
