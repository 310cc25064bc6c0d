"""The identity a provider vouches for, and the error raised when it vouches badly.

Every provider, whatever its answer looks like, is reduced to a :class:`Profile`:
a stable ``subject`` (the provider's own id for the account; never an e-mail
address or a login name that can change hands), a display ``name`` and an
optional ``picture`` URL. Users are keyed by ``(provider, subject)``.

A finished login yields a :class:`LoginResult`: the profile, and the
provider's token, which the login service drops unless a setting asks to keep it.

Errors raised while turning a provider's answer into a profile (under
:class:`~flask_modular_login.core.errors.LoginError`)::

    ProviderError                   provider_error   the provider's answer is unusable
    ├── LoginDenied                 login_denied     the user (or provider) refused the login
    └── (provider-specific subclasses, see :mod:`.oidc` and :mod:`.oauth2`;
         the shapes both share are in :mod:`.authorization_code`)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ...core.errors import LoginError

MAX_SUBJECT = 255
"""Longest accepted subject (OpenID Connect allows up to 255 ASCII characters)."""
MAX_NAME = 200
"""Display names are cut to this many characters (they travel in the lease cookie)."""
MAX_PICTURE = 1024
"""Picture URLs longer than this are dropped (they travel in the lease cookie)."""


class ProviderError(LoginError):
    """A provider's answer cannot be used to log anyone in.

    Messages are safe to show and log: they never contain a secret, a code or a token.
    """

    code = "provider_error"


class LoginDenied(ProviderError):
    """The provider sent the browser back with ``error=`` (a refused consent, say)."""

    code = "login_denied"


@dataclass(frozen=True)
class Profile:
    """A normalised identity: build it with :func:`make_profile`."""

    subject: str
    name: str
    picture: str | None = None


@dataclass(frozen=True)
class LoginResult:
    """What a finished login yields: who the user is, and the provider's token.

    ``token`` (the access token and what came with it, never an ID token) is
    for the caller to drop, or to keep only when configured to.
    """

    profile: Profile
    token: Mapping[str, Any] | None = field(default=None, repr=False)


def make_profile(
    provider: str, subject: object, names: Iterable[object], picture: object = None
) -> Profile:
    """Validate and tidy one provider's answer.

    ``subject`` must be a non-empty string (or a non-negative int, as GitHub
    sends). ``names`` are candidates tried in order; the first non-blank string
    wins, else the subject is used. ``picture`` is kept only if it is an
    ``http(s)`` URL of reasonable length. Raises :class:`ProviderError`.
    """
    sub = clean_subject(provider, subject)
    return Profile(subject=sub, name=first_name(names) or sub, picture=clean_picture(picture))


def clean_subject(provider: str, value: object) -> str:
    """The subject as a string, or :class:`ProviderError` naming what is wrong."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ProviderError(f"{provider}: the profile has no account id")
    if len(value) > MAX_SUBJECT or not value.isprintable():
        raise ProviderError(f"{provider}: the profile's account id is malformed")
    return value


def first_name(candidates: Iterable[object]) -> str | None:
    """The first candidate that is a non-blank string, stripped and cut to :data:`MAX_NAME`."""
    for candidate in candidates:
        if isinstance(candidate, str):
            name = " ".join(candidate.split())
            if name:
                return name[:MAX_NAME]
    return None


def clean_picture(value: object) -> str | None:
    """``value`` if it is an absolute ``http(s)`` URL of at most :data:`MAX_PICTURE` chars."""
    if not isinstance(value, str) or len(value) > MAX_PICTURE or not value.isprintable():
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    return value
