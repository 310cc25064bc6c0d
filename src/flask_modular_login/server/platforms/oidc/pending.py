"""The authorization request and its callback: a :class:`PendingLogin` (pure).

:func:`begin_login` makes this login's ``state``, ``nonce`` and PKCE verifier
and the URL to send the browser to; the caller keeps :meth:`PendingLogin.as_dict`
in the browser's session. :func:`parse_callback` checks the callback against
it (``state``, RFC 9207 ``iss``, ``error=``) and hands back the code for
:func:`~.tokens.exchange_code`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..authorization_code import add_query, callback_code, check_state, code_challenge
from ..credentials import OIDCCredentials
from .discovery import ProviderMetadata
from .errors import AuthorizationDenied, CallbackError


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


def parse_callback(
    params: Mapping[str, str], pending: PendingLogin, metadata: ProviderMetadata
) -> str:
    """The ``code`` of a callback, once ``state`` and ``iss`` are checked (pure).

    Raises :class:`CallbackError`, or :class:`AuthorizationDenied` when the
    provider reports an error (a refused consent is ``access_denied``).
    """
    check_state(params, pending.state, CallbackError)
    iss = params.get("iss")
    if iss is not None and iss != metadata.issuer:
        raise CallbackError("the callback comes from another issuer (iss does not match)")
    if iss is None and metadata.iss_parameter_supported:
        raise CallbackError("the callback lacks the iss parameter its issuer promises")
    return callback_code(params, CallbackError, AuthorizationDenied)
