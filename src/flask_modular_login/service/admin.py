"""Operator use cases (the command line): changes made on nobody's behalf.

Each goes through a store method that writes its rows and its events in one
transaction, then tells the notifier, like the other use cases, so clients
forget what they cached about the users concerned.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from ..core.groups import GroupPath
from ..core.invitations import Grant
from ..store import Store
from ..store.access import announce_identity_change
from ..store.tables import identities
from .access import AccessService
from .notifier import Notifier


class AdminService:
    """Member and invite changes go through :class:`~.access.AccessService` as a trusted
    caller (no actor: the operator), so they are audited and signalled like any other."""

    def __init__(self, store: Store, notifier: Notifier, clock: Callable[[], int],
                 access: AccessService) -> None:
        self.store = store
        self._notifier = notifier
        self._now = clock
        self._access = access

    def ensure_group(self, group: GroupPath, owner: tuple[str, str] | None = None) -> bool:
        """Create ``group`` (and its ancestors); with ``owner``, claim its root if unowned.
        Whether ``owner`` owns the root afterwards. A new claim is announced to the caches
        of the user holding that identity, if any."""
        root = group.ancestors()[0]
        had = owner is not None and tuple(owner) in self.store.access.owners(root)
        now = self._now()
        owns = self.store.access.ensure_group(group, now, owner)
        if owner is not None and owns and not had:
            with self.store.write() as conn:
                user_id = conn.execute(select(identities.c.user_id).where(
                    identities.c.provider == owner[0],
                    identities.c.subject == owner[1])).scalar()
                if user_id is not None:
                    announce_identity_change(conn, user_id, owner[0], owner[1], now)
            if user_id is not None:
                self._access.changed(user_id)
                self._notifier.notify()
        return owns

    def add_member(self, group: GroupPath, user_id: str, grant: Grant) -> None:
        self.store.access.ensure_group(group, self._now())
        self._access.add_member(None, group, user_id, grant)

    def remove_member(self, group: GroupPath, user_id: str) -> bool:
        return self._access.drop_member(None, group, user_id)

    def revoke_invite(self, invite_id: str) -> bool:
        invite = self.store.access.invite_by_id(invite_id)
        return invite is not None and self._access.revoke(None, invite)
