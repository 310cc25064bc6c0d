"""The membership oracle behind the ``check`` RPC: one lookup, and until when it holds.

The lookup goes through :meth:`AccessService.grants <flask_modular_login.service.access.
AccessService.grants>`: from the shared cache (memcached) when it holds the answers,
else one store query."""

from __future__ import annotations

from collections.abc import Sequence

from ..cache.memberships import GrantSource
from ..core.groups import GroupPath

__all__ = ["StoreOracle"]


class StoreOracle:
    """A :class:`~flask_modular_login.core.groups.MembershipOracle` for one check at ``now``.

    Answers from ``access.grants`` (the service's, or the store's
    :meth:`~flask_modular_login.store.access.AccessStore.grants`); afterwards :attr:`until` is the
    earliest end of the memberships that granted an answer (None: no answer
    ends by itself). What changes sooner is announced in the event log, so a
    client may keep the decision until then, as ``client/memberships.py`` does.
    """

    def __init__(self, access: GrantSource, now: float) -> None:
        self._access = access
        self._now = now
        self.until: float | None = None

    def memberships(self, user_id: str,
                    paths: Sequence[GroupPath]) -> dict[GroupPath, GroupPath | None]:
        found: dict[GroupPath, GroupPath | None] = {}
        for path, held in self._access.grants(user_id, paths, self._now).items():
            found[path] = held.group if held else None
            if held is not None and held.until is not None:
                self.until = held.until if self.until is None else min(self.until, held.until)
        return found
