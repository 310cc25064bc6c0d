"""ID token validation, pure given the issuer's key set and the time.

:func:`validate_id_token` runs the checks below it in order and hands back the
claims; every failure is an :class:`~.errors.IdTokenError` (PyJWT's messages
are not passed on). Fetching the key set is :func:`~.discovery.fetch_jwks`'s
job (I/O); :func:`~.checked_claims` asks for a fresh one when no key fits.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

import jwt

from .discovery import ProviderMetadata
from .errors import (
    AlgorithmRefused,
    AudienceMismatch,
    IdTokenError,
    IssuerMismatch,
    NonceMismatch,
    SignatureInvalid,
    TokenExpired,
    UnknownKey,
)

KEY_TYPES = {
    "RS": ("RSA", None),
    "PS": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "EdDSA": ("OKP", None),
}
"""``alg`` (or its first two letters) -> the JWK ``kty`` and ``crv`` that may verify it."""
LEEWAY = 60
"""Seconds of clock skew tolerated on ``exp``, ``iat`` and ``nbf``."""


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
    if not (is_number(exp) and is_number(iat)) or not (nbf is None or is_number(nbf)):
        raise IdTokenError("ID token: exp, iat or nbf is not a number")
    if now > exp + leeway:
        raise TokenExpired("ID token: expired")
    if iat > now + leeway or (nbf is not None and nbf > now + leeway):
        raise TokenExpired("ID token: issued in the future (is the clock right?)")


def is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_nonce(claims: Mapping[str, Any], nonce: str) -> None:
    """The ``nonce`` claim must equal this login's (constant-time)."""
    claim = claims.get("nonce")
    if not isinstance(claim, str) or not hmac.compare_digest(claim.encode(), nonce.encode()):
        raise NonceMismatch("ID token: nonce does not match this login")
