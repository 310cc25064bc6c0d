"""``AccessNamespace``: a root group owned by an identity, declared in a client app.

::

    chat = AccessNamespace("chat", ownership_method="test", owner_id="127.0.0.1")
    chat / room / "blocked"        # an OwnedPath: a GroupPath that remembers chat's owner

An :class:`AccessNamespace` is a :class:`~flask_modular_login.core.groups.GroupPath`
(``/ | & ^ ~ +`` work as in :mod:`core.groups`, and it compares equal to the
plain path). Declaring one does no I/O, so namespaces can be declared or
referenced at any time. The root group and its owner are written to the store
lazily, the first time a check in this process names a path of the namespace
(:meth:`LocalAccess.evaluate <flask_modular_login.client.access.LocalAccess.evaluate>`),
when a Flask app whose routes name it serves its first request (:mod:`.declared`),
or explicitly with :meth:`AccessNamespace.ensure`; all are idempotent and
race-safe (insert-or-ignore). ``chat.group("x")`` is ``chat / "x"``.

The owner is an identity ``(provider, subject)``, so it holds the whole tree even
before it has ever logged in. The first claim on a root wins: declaring the
same name with another identity later makes that identity no owner (the check
logs a warning), so a namespace built from request data cannot be taken over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.groups import GroupPath

if TYPE_CHECKING:
    from ..store import Store

Owner = tuple[str, str]
"""An identity that owns a root group: ``(provider, subject)``."""


@dataclass(frozen=True, eq=False, repr=False)
class OwnedPath(GroupPath):
    """A group path under an :class:`AccessNamespace`; equal to the plain path.

    ``owner`` travels with the path through ``/`` so that a check can make the
    namespace's root exist (with its owner) on first use.
    """

    owner: Owner | None = None

    def __truediv__(self, segment: object) -> OwnedPath:
        return OwnedPath(self.root, (*self.segments, segment), self.owner)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"OwnedPath({self.root!r}, {self.segments!r}, owner={self.owner!r})"


class AccessNamespace(OwnedPath):
    """The root group ``name``, owned by the identity ``(ownership_method, owner_id)``.

    ``ownership_method`` is a provider name (``"test"``, ``"github"``, ...) and
    ``owner_id`` the subject that provider gives the owner. No I/O happens here.
    """

    def __init__(self, name: str, *, ownership_method: str, owner_id: str) -> None:
        for label, value in (("ownership_method", ownership_method), ("owner_id", owner_id)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"{label} must be a non-empty str")
        super().__init__(name, (), (ownership_method, owner_id))

    @property
    def ownership_method(self) -> str:
        return self.owner[0]  # type: ignore[index]

    @property
    def owner_id(self) -> str:
        return self.owner[1]  # type: ignore[index]

    def ensure(self, store: Store, now: float | None = None) -> bool:
        """Make the root group exist in ``store`` now, owned by this identity unless another
        owned it first; returns whether this identity owns it. Idempotent.

        Checks do this by themselves on first use; call it when the group must exist
        before any check, e.g. to list it or add members to it at start-up.
        """
        moment = int(time.time() if now is None else now)
        return store.access.ensure_group(self, moment, self.owner)

    def __repr__(self) -> str:
        return (f"AccessNamespace({self.root!r}, ownership_method={self.ownership_method!r}, "
                f"owner_id={self.owner_id!r})")
