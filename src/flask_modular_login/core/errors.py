"""Errors of the pure core. Each carries a stable ``code`` (used in JSON bodies and on the channel).

::

    LoginError                      code
    ├── LeaseError                  lease_invalid   bad token: forged, garbage, unknown key
    │   └── LeaseExpired            lease_expired   genuine token past its expiry (renewable)
    └── SessionEnded                session_ended   the session cannot be renewed
                                                   (revoked, unknown, or past its absolute life)
"""

from __future__ import annotations


class LoginError(Exception):
    """Base of every error the core raises."""

    code = "login_error"


class LeaseError(LoginError):
    """The token is not a lease we issued: treat the request as logged out."""

    code = "lease_invalid"


class LeaseExpired(LeaseError):
    """The token is genuine but its lease ran out; ``lease`` holds its claims for renewal."""

    code = "lease_expired"

    def __init__(self, lease: object) -> None:
        super().__init__("lease expired")
        self.lease = lease


class SessionEnded(LoginError):
    """The session behind a lease is revoked, unknown or past its absolute life."""

    code = "session_ended"
