"""The OpenID Connect errors: one small tree, each error with a stable ``code``.

Messages never contain the client secret, the code or a token. The callback
and token errors are also the shapes of :mod:`..authorization_code` (so they
carry the same evidence as :mod:`..oauth2`'s)::

    ProviderError                provider_error       (from ..profile)
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

from .. import authorization_code
from ..profile import ProviderError


class OIDCError(ProviderError):
    """Base of the OpenID Connect errors."""

    code = "oidc_error"


class DiscoveryError(OIDCError):
    code = "oidc_discovery"


class CallbackError(OIDCError, authorization_code.CallbackError):
    code = "oidc_callback"


class AuthorizationDenied(CallbackError, authorization_code.AuthorizationDenied):
    """The provider sent the browser back with ``error=...``; ``error`` holds that code."""

    code = "oidc_denied"


class TokenExchangeError(OIDCError, authorization_code.TokenExchangeError):
    """The token endpoint refused; ``error`` holds its OAuth error code (or ``None``)."""

    code = "oidc_token_exchange"


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
