"""Lease tokens: issue, verify and renew decisions. Pure: no clock, no files, no database.

A *lease* is a compact JWS (EdDSA over Ed25519) carried by the ``login`` cookie.
Anyone holding the public keys can verify one; only the holder of a private key
can mint one. The caller passes ``now`` (seconds since the epoch) everywhere.

Contract:

* :func:`issue` signs a :class:`Lease` with the newest :class:`SigningKey`.
* :func:`verify` returns the :class:`Lease` of a genuine, unexpired token; raises
  :class:`LeaseExpired` (carrying the lease) for a genuine expired one, and
  :class:`LeaseError` for anything else. The caller must then treat the request
  as logged out, or try :func:`renew`.
* :func:`renew` decides, from the store's view of the session, whether an expired
  lease may be replaced, and returns the new :class:`Lease` to sign. It raises
  :class:`SessionEnded` when the session is revoked, unknown or too old.

A token has exactly one spelling: three segments of canonical unpadded
base64url (no ``=``, no whitespace, no ``+``/``/``, unused trailing bits zero).
Anything else is refused before the signature is checked, so a padded or
re-spelled copy of a genuine token is never a second valid cookie.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from .errors import LeaseError, LeaseExpired, SessionEnded

# PyJWT and cryptography load with the first key or token, not with the package: a client
# app's import stays light (benchmarks/imports.py). A valid lease seen before is checked
# from the verifier's cache, without coming here.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = ["Lease", "Issued", "Authentication", "ANONYMOUS", "REJECTED", "SessionFacts",
           "SigningKey", "KeyRing", "LeaseError", "LeaseExpired", "SessionEnded", "lease_for",
           "issue", "verify", "verify_signature", "renew", "key_id", "unverified_kid"]

TOKEN_VERSION = 1
ALGORITHM = "EdDSA"
_INTS = {"auth_time", "issued_at", "expires_at", "session_expires_at", "version"}
_B64 = "[A-Za-z0-9_-]"
_SEGMENT = f"(?:{_B64}{{4}})*(?:{_B64}{{2}}[AEIMQUYcgkosw048]|{_B64}[AQgw])?"
_CANONICAL = re.compile(rf"{_SEGMENT}\.{_SEGMENT}\.{_SEGMENT}", re.ASCII)
"""A compact JWS whose segments are canonical unpadded base64url: a final partial group
of 2 or 3 characters must leave its unused low bits zero (RFC 4648, section 3.5)."""


@dataclass(frozen=True)
class Lease:
    """The claims of one lease. ``session_expires_at`` is the session's absolute end."""

    session_id: str
    user_id: str
    name: str
    picture: str | None
    auth_time: int
    issued_at: int
    expires_at: int
    session_expires_at: int
    version: int = TOKEN_VERSION

    def user(self) -> dict[str, Any]:
        """What views receive as ``user``."""
        return {"id": self.user_id, "name": self.name, "picture": self.picture}

    def to_claims(self) -> dict[str, Any]:
        return {
            "sid": self.session_id,
            "sub": self.user_id,
            "name": self.name,
            "picture": self.picture,
            "auth_time": self.auth_time,
            "iat": self.issued_at,
            "exp": self.expires_at,
            "send": self.session_expires_at,
            "ver": self.version,
        }

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Lease:
        try:
            lease = cls(
                session_id=claims["sid"],
                user_id=claims["sub"],
                name=claims["name"],
                picture=claims["picture"],
                auth_time=claims["auth_time"],
                issued_at=claims["iat"],
                expires_at=claims["exp"],
                session_expires_at=claims["send"],
                version=claims["ver"],
            )
        except (KeyError, TypeError) as error:
            raise LeaseError(f"lease claims incomplete: {error}") from None
        _check_types(lease)
        return lease


_FIELDS = tuple(f.name for f in fields(Lease))


def _check_types(lease: Lease) -> None:
    for name in _FIELDS:
        value = getattr(lease, name)
        expected: Any = (str, type(None)) if name == "picture" else (int if name in _INTS else str)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise LeaseError(f"lease claim {name} has the wrong type")
    if lease.version != TOKEN_VERSION:
        raise LeaseError(f"unsupported lease version {lease.version}")


@dataclass(frozen=True)
class Issued:
    """A freshly signed lease and its token (the ``login`` cookie's value)."""

    lease: Lease
    token: str


@dataclass(frozen=True)
class Authentication:
    """The outcome of checking one cookie.

    ``user`` is ``{"id", "name", "picture"}`` or None (logged out). ``renewed``
    holds a new lease the adapter must set as the cookie; ``clear_cookie`` asks
    it to delete a cookie that is forged, garbage or ended.
    """

    user: dict[str, Any] | None
    lease: Lease | None = None
    renewed: Issued | None = None
    clear_cookie: bool = False


ANONYMOUS = Authentication(None)
REJECTED = Authentication(None, clear_cookie=True)


@dataclass(frozen=True)
class SessionFacts:
    """What the store knows about a session when a lease is issued or renewed."""

    session_id: str
    user_id: str
    name: str
    picture: str | None
    auth_time: int
    expires_at: int
    revoked: bool = False


# ---------------------------------------------------------------- keys


def key_id(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint of an Ed25519 public key."""
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64(_raw(public_key))}
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    return _b64(hashlib.sha256(canonical).digest())


def _raw(public_key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    """A private key and its key id; only the login service (and local clients) hold one."""

    private_key: Ed25519PrivateKey

    @functools.cached_property
    def kid(self) -> str:
        return key_id(self.private_key.public_key())

    @functools.cached_property
    def header(self) -> str:
        """The JWS header segment of every lease this key signs."""
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": "JWT"}
        return _b64(json.dumps(header, separators=(",", ":")).encode())


class KeyRing:
    """Public keys by key id: what a verifier needs, and all a remote client ever holds."""

    def __init__(self, public_keys: Iterable[Ed25519PublicKey] = ()) -> None:
        self._keys = {key_id(key): key for key in public_keys}

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, kid: str) -> Ed25519PublicKey | None:
        return self._keys.get(kid)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The key set as served at ``/.well-known/jwks.json``."""
        return {
            "keys": [
                {"kty": "OKP", "crv": "Ed25519", "x": _b64(_raw(key)), "kid": kid,
                 "alg": ALGORITHM, "use": "sig"}
                for kid, key in sorted(self._keys.items())
            ]
        }

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any]) -> KeyRing:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        keys = []
        for jwk in jwks.get("keys", []):
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
                raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
                keys.append(Ed25519PublicKey.from_public_bytes(raw))
        return cls(keys)


# ---------------------------------------------------------------- decisions


def lease_for(session: SessionFacts, now: int, lease_seconds: int) -> Lease:
    """The lease to hand out for ``session`` at ``now``; never outlives the session."""
    if session.revoked or now >= session.expires_at:
        raise SessionEnded("session ended")
    return Lease(
        session_id=session.session_id,
        user_id=session.user_id,
        name=session.name,
        picture=session.picture,
        auth_time=session.auth_time,
        issued_at=now,
        expires_at=min(now + lease_seconds, session.expires_at),
        session_expires_at=session.expires_at,
    )


def issue(lease: Lease, key: SigningKey) -> str:
    """Sign ``lease`` into a compact JWS (the header ``alg`` EdDSA, ``kid``, ``typ`` JWT)."""
    payload = _b64(json.dumps(lease.to_claims(), separators=(",", ":")).encode())
    signed = f"{key.header}.{payload}"
    return f"{signed}.{_b64(key.private_key.sign(signed.encode('ascii')))}"


def verify(token: str, keys: KeyRing, now: float) -> Lease:
    """The lease inside ``token``, if genuine and unexpired; see the module contract."""
    lease = verify_signature(token, keys)
    if now >= lease.expires_at:
        raise LeaseExpired(lease)
    return lease


def verify_signature(token: str, keys: KeyRing) -> Lease:
    """The lease inside a genuine ``token``, expired or not; raises :class:`LeaseError`.

    The compact JWS is checked here directly (it is on every renewal's path): canonical
    segments, a header of ``alg`` EdDSA, a known ``kid`` and at most ``typ`` besides, an
    Ed25519 signature over the first two segments, then the claims.
    """
    if not isinstance(token, str) or not _CANONICAL.fullmatch(token):
        raise LeaseError("lease rejected: not a canonical compact JWS")
    header_segment, payload_segment, signature_segment = token.split(".")
    header = _json_segment(header_segment)
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not header.keys() <= _HEADER_KEYS:
        raise LeaseError("lease rejected: unexpected header")
    public_key = keys.get(kid) if isinstance(kid, str) else None
    if public_key is None:
        raise LeaseError("unknown signing key")
    from cryptography.exceptions import InvalidSignature

    signed = f"{header_segment}.{payload_segment}".encode("ascii")
    try:
        public_key.verify(_b64decode(signature_segment), signed)
    except InvalidSignature:
        raise LeaseError("lease rejected: bad signature") from None
    return Lease.from_claims(_json_segment(payload_segment))


_HEADER_KEYS = {"alg", "kid", "typ"}


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _json_segment(segment: str) -> dict[str, Any]:
    """A JSON object in a base64url segment; :class:`LeaseError` for anything else."""
    try:
        value = json.loads(_b64decode(segment))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise LeaseError("lease rejected: a segment is not JSON") from None
    if not isinstance(value, dict):
        raise LeaseError("lease rejected: a segment is not a JSON object")
    return value


def renew(expired: Lease, session: SessionFacts | None, now: int, lease_seconds: int) -> Lease:
    """The lease that replaces ``expired``, given the store's ``session`` (None if unknown)."""
    if session is None or session.session_id != expired.session_id:
        raise SessionEnded("unknown session")
    if session.user_id != expired.user_id:
        raise SessionEnded("session belongs to another user")
    return lease_for(session, now, lease_seconds)


def unverified_kid(token: str) -> str | None:
    """The key id a token names, without trusting it (to decide whether to reload keys)."""
    if not isinstance(token, str) or not _CANONICAL.fullmatch(token):
        return None
    try:
        kid = _json_segment(token.split(".", 1)[0]).get("kid")
    except LeaseError:
        return None
    return kid if isinstance(kid, str) else None
