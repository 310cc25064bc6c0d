"""Refusals of the channel protocol. Each has a stable ``code`` and a websocket ``close_code``.

Every :class:`ProtocolError` ends the connection: the I/O layer closes the
websocket with ``close_code`` and a reason starting with ``code``. Errors of one
RPC that leave the connection open are not exceptions here: they travel as
``response`` messages carrying ``error: {code, message}``.

::

    LoginError (core.errors)
    ├── ProtocolError           protocol_error        4400
    │   ├── Malformed           malformed             4400  not UTF-8 / JSON / an object; dup key
    │   ├── AuthFailed          auth_failed           4401  wrong proof, unknown client
    │   ├── RevokedClient       revoked_client        4403  the client's credential was revoked
    │   ├── Unexpected          unexpected            4405  a message not allowed in this state
    │   ├── Stale               stale                 4408  auth time more than 30 s off
    │   ├── Replayed            replayed              4409  a nonce used twice
    │   ├── TooLarge            too_large             4413  a message over 64 KiB
    │   ├── BadField            bad_field             4422  missing, unknown or mistyped field
    │   ├── Flood               flood                 4429  over the rate or in-flight limit
    │   ├── Internal            internal              4500  the server failed, not the peer
    │   ├── UnknownType         unknown_type          4501  a type the protocol does not have
    │   ├── Timeout             timeout               4504  no auth in time; server silent
    │   └── UnsupportedVersion  unsupported_version   4505  a protocol version we do not speak
    └── ConnectionClosed        closed                 (local only: sending on a closed connection)

:class:`UsageError` (``usage_error``, a LoginError and a ``RuntimeError``) is a bug in
the caller, e.g. answering a request that was never received; it never reaches the peer.
"""

from __future__ import annotations

from ..errors import LoginError

__all__ = [
    "ProtocolError", "Malformed", "AuthFailed", "RevokedClient", "Unexpected", "Stale",
    "Replayed", "TooLarge", "BadField", "Flood", "Internal", "UnknownType", "Timeout",
    "UnsupportedVersion", "ConnectionClosed", "UsageError", "CLOSE_CODES", "close_code_for",
]


class ProtocolError(LoginError):
    """The peer broke the protocol (or the server failed): close with ``close_code``."""

    code = "protocol_error"
    close_code = 4400


class Malformed(ProtocolError):
    code = "malformed"
    close_code = 4400


class AuthFailed(ProtocolError):
    code = "auth_failed"
    close_code = 4401


class RevokedClient(ProtocolError):
    code = "revoked_client"
    close_code = 4403


class Unexpected(ProtocolError):
    code = "unexpected"
    close_code = 4405


class Stale(ProtocolError):
    code = "stale"
    close_code = 4408


class Replayed(ProtocolError):
    code = "replayed"
    close_code = 4409


class TooLarge(ProtocolError):
    code = "too_large"
    close_code = 4413


class BadField(ProtocolError):
    code = "bad_field"
    close_code = 4422


class Flood(ProtocolError):
    code = "flood"
    close_code = 4429


class Internal(ProtocolError):
    code = "internal"
    close_code = 4500


class UnknownType(ProtocolError):
    code = "unknown_type"
    close_code = 4501


class Timeout(ProtocolError):
    code = "timeout"
    close_code = 4504


class UnsupportedVersion(ProtocolError):
    code = "unsupported_version"
    close_code = 4505


class ConnectionClosed(LoginError):
    """Nothing can be sent: the connection is closed (by either side)."""

    code = "closed"


class UsageError(LoginError, RuntimeError):
    """The caller misused a connection (a bug in the I/O or service layer, not the peer)."""

    code = "usage_error"


_REFUSALS: tuple[type[ProtocolError], ...] = (
    Malformed, AuthFailed, RevokedClient, Unexpected, Stale, Replayed, TooLarge, BadField,
    Flood, Internal, UnknownType, Timeout, UnsupportedVersion,
)

CLOSE_CODES: dict[str, int] = {error.code: error.close_code for error in _REFUSALS}
"""Error code -> websocket close code, for every refusal (what docs/protocol.md tabulates)."""


def close_code_for(code: str) -> int:
    """The websocket close code for an error ``code`` (4400 for one this version lacks)."""
    return CLOSE_CODES.get(code, ProtocolError.close_code)
