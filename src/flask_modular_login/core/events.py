"""Events: what changed in the store, in one ordered log whose ids are the cursor.

Every session that ends and every membership that changes appends one
:class:`Event`. Local clients read the log after their cursor, remote clients
hear it pushed over the channel and catch up after a reconnect by asking for
what follows their last cursor: one number says how far anyone has read.

Kinds:

* ``revoked``: session ``session_id`` ended; every lease of it has run out at
  ``leases_end``, so a client keeps the revocation until then and no longer.
* ``added``, ``removed``, ``joined``, ``owner``: the memberships of ``user_id``
  changed at or below ``group`` (``owner``: an identity that owns the root was
  linked to or unlinked from the user). A client forgets what it caches of
  that user.
* ``client_revoked``: the channel client ``client`` was cut off. Only the channel
  server acts on it (it closes that client's connections); it is never pushed.
"""

from __future__ import annotations

from dataclasses import dataclass

REVOKED = "revoked"
CLIENT_REVOKED = "client_revoked"
MEMBERSHIP_KINDS = frozenset({"added", "removed", "joined", "owner"})
KINDS = MEMBERSHIP_KINDS | {REVOKED, CLIENT_REVOKED}

__all__ = ["Event", "REVOKED", "CLIENT_REVOKED", "MEMBERSHIP_KINDS", "KINDS"]


@dataclass(frozen=True)
class Event:
    """One row of the event log; ``cursor`` is its position (ids only grow)."""

    cursor: int
    kind: str
    created_at: int
    session_id: str | None = None
    leases_end: int | None = None
    user_id: str | None = None
    group: str | None = None
    client: str | None = None

    @property
    def revokes(self) -> bool:
        return self.kind == REVOKED

    @property
    def changes_memberships(self) -> bool:
        return self.kind in MEMBERSHIP_KINDS

    def to_json(self) -> dict[str, object]:
        """The event as a JSON object (fields that are None left out)."""
        return {key: value for key, value in self.__dict__.items() if value is not None}
