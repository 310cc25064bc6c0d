"""Client credentials and the handshake proofs (HMAC-SHA256). Pure: callers pass random bytes.

A client's credential is ``"<name>.<secret>"``, printed once by ``clients add
NAME``: ``secret`` is 32 random bytes in unpadded base64url. Neither side uses
the secret directly: both derive the client key ::

    key = SHA-256(frame("flask_modular_login client key v1", secret))

The service stores only ``key`` (never the secret); a client may keep either
the credential or the key. ``key`` is what proves identity on the channel, so
it must be kept as secret as the credential itself (see docs/protocol.md,
"Client credentials").

``frame(f1, f2, ...)`` is every field as a 4-byte big-endian length followed by
its bytes, so no two different field lists give the same bytes. The proofs::

    auth proof    = HMAC-SHA256(key, frame(LABEL, "auth",    server_nonce, client_nonce,
                                           name, time))
    welcome proof = HMAC-SHA256(key, frame(LABEL, "welcome", server_nonce, client_nonce,
                                           name, time))

with ``LABEL = "flask_modular_login channel v1"``, nonces as raw bytes, ``name``
in UTF-8 and ``time`` (the ``time`` of the ``auth`` message) as an 8-byte
big-endian signed integer; proofs travel as lowercase hex.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["LABEL", "KEY_LABEL", "SECRET_BYTES", "NONCE_BYTES", "MIN_NONCE_BYTES",
           "MAX_NONCE_BYTES", "NAME_PATTERN", "ClientRecord", "ClientLookup", "new_credential",
           "parse_credential", "client_key", "frame", "auth_input", "welcome_input",
           "auth_proof", "welcome_proof", "proofs_match", "check_name", "check_nonce"]

LABEL = b"flask_modular_login channel v1"
KEY_LABEL = b"flask_modular_login client key v1"
SECRET_BYTES = 32
NONCE_BYTES = 32
"""What both sides should generate (``secrets.token_bytes(NONCE_BYTES)``)."""
MIN_NONCE_BYTES = 16
MAX_NONCE_BYTES = 64
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)
_SECRET = re.compile(r"[A-Za-z0-9_-]{43,128}", re.ASCII)


@dataclass(frozen=True)
class ClientRecord:
    """What the service stores about one client: its name, its key, whether it was revoked."""

    name: str
    key: bytes = field(repr=False)
    revoked: bool = False


ClientLookup = Callable[[str], "ClientRecord | None"]
"""Finds a client by name (None if unknown). Called during the handshake: keep it fast."""


def check_name(name: object) -> str:
    """``name`` if it is a valid client name (1-64 of ``A-Z a-z 0-9 . _ -``); else ValueError."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"client name must match {NAME_PATTERN.pattern}")
    return name


def check_nonce(nonce: object) -> bytes:
    """``nonce`` if it is bytes of an allowed length; else ValueError."""
    if not isinstance(nonce, bytes) or not MIN_NONCE_BYTES <= len(nonce) <= MAX_NONCE_BYTES:
        raise ValueError(f"a nonce is {MIN_NONCE_BYTES} to {MAX_NONCE_BYTES} random bytes")
    return nonce


def new_credential(name: str, secret: bytes) -> str:
    """The credential to print once for client ``name``; ``secret``: 32+ random bytes."""
    if not isinstance(secret, bytes) or len(secret) < SECRET_BYTES:
        raise ValueError(f"the secret must be at least {SECRET_BYTES} random bytes")
    return f"{check_name(name)}.{base64.urlsafe_b64encode(secret).rstrip(b'=').decode()}"


def parse_credential(credential: str) -> tuple[str, bytes]:
    """``(name, key)`` of a credential; ValueError (never echoing the secret) if malformed."""
    usage = "a credential is NAME.SECRET as printed by `clients add NAME`"
    if not isinstance(credential, str):
        raise ValueError(usage)
    name, dot, secret = credential.strip().rpartition(".")
    if not dot or not _SECRET.fullmatch(secret):
        raise ValueError(usage)
    return check_name(name), client_key(secret)


def client_key(secret: str) -> bytes:
    """The 32-byte key derived from a credential's secret (what the service stores)."""
    return hashlib.sha256(frame(KEY_LABEL, secret.encode("ascii"))).digest()


def frame(*fields: bytes) -> bytes:
    """Each field as a 4-byte big-endian length, then its bytes."""
    return b"".join(len(f).to_bytes(4, "big") + f for f in fields)


def auth_input(server_nonce: bytes, client_nonce: bytes, name: str, time: int) -> bytes:
    """The bytes the client's ``auth`` proof signs."""
    return _input(b"auth", server_nonce, client_nonce, name, time)


def welcome_input(server_nonce: bytes, client_nonce: bytes, name: str, time: int) -> bytes:
    """The bytes the server's ``welcome`` proof signs."""
    return _input(b"welcome", server_nonce, client_nonce, name, time)


def _input(role: bytes, server_nonce: bytes, client_nonce: bytes, name: str, time: int) -> bytes:
    return frame(LABEL, role, server_nonce, client_nonce, name.encode("utf-8"),
                 time.to_bytes(8, "big", signed=True))


def auth_proof(key: bytes, server_nonce: bytes, client_nonce: bytes, name: str,
               time: int) -> str:
    """The ``proof`` of an ``auth`` message, lowercase hex."""
    return _mac(key, auth_input(server_nonce, client_nonce, name, time))


def welcome_proof(key: bytes, server_nonce: bytes, client_nonce: bytes, name: str,
                  time: int) -> str:
    """The ``proof`` of a ``welcome`` message, lowercase hex."""
    return _mac(key, welcome_input(server_nonce, client_nonce, name, time))


def _mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def proofs_match(expected: str, given: str) -> bool:
    """Constant-time comparison of two proofs."""
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))
