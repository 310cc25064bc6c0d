"""``LocalAccess``: access groups for one client process (``interface.access``).

Two jobs, one object:

* **checks**: :meth:`LocalAccess.evaluate` decides an expression for a user
  against the cached oracle (:mod:`.memberships`), after reading new access
  events from the feed if its poll interval is over (:mod:`.events`) and making any
  namespace the expression names exist (:mod:`.namespace`) the first time. The
  decision itself is cached too, for as long as every answer it rests on, and
  dropped with them;
* **the programmatic API** for apps that grant access themselves:
  :meth:`~LocalAccess.ensure`, :meth:`~LocalAccess.add_member`,
  :meth:`~LocalAccess.remove_member`, :meth:`~LocalAccess.members`,
  :meth:`~LocalAccess.invites`. A change made here is seen at once by this
  process's checks, and by other processes within their poll interval.

Every exception from :meth:`~LocalAccess.evaluate` means "not allowed".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from ..core.groups import Evaluation, Expression, GroupPath, evaluate
from ..core.invitations import Grant, Membership
from .events import EventFeed
from .membership_cache import DECISION, InProcessMembershipCache, MembershipCache
from .memberships import CachedMemberships, Found
from .namespace import OwnedPath

if TYPE_CHECKING:  # the store (SQLAlchemy) loads with the first local check, not on import
    from ..store import Store
    from ..store.access import Invite

logger = logging.getLogger("flask_modular_login.access")


class GroupAccess:
    """What local and remote access share: namespaces made to exist the first time a check
    names them, and decisions cached per user and expression for as long as the answers
    they rest on. Subclasses say how to decide (:meth:`_decide`) and how to make a group
    exist (:meth:`_make`)."""

    def __init__(self, feed: EventFeed, cache: MembershipCache | None,
                 clock: Callable[[], float]) -> None:
        self._clock = clock
        self.cache: MembershipCache = cache or InProcessMembershipCache()
        self.feed = feed
        feed.subscribe(lambda event: self.cache.forget(event.user_id or ""))
        self._ensured: set[tuple[str, ...]] = set()

    def evaluate(self, expr: Expression, user_id: str) -> Evaluation:
        """Decide ``expr`` for ``user_id``. Raises on any failure: treat that as "not allowed".

        The result may be shared with other calls: do not change its ``via``.
        """
        now = self._clock()
        self._ready(now)
        self._ensure_namespaces(expr.walk())
        key = (DECISION, expr)
        cached = self.cache.get(user_id, key, now)
        if cached is not None:
            return cached[0]  # type: ignore[return-value]
        epoch = self.cache.epoch
        outcome, until = self._decide(expr, user_id, now)
        self.cache.put(user_id, key, outcome, until, epoch)
        return outcome

    def ensure(self, path: GroupPath) -> bool:
        """Make ``path`` and its ancestors exist. For a path made from an
        :class:`~.namespace.AccessNamespace`, the root gets the namespace's owner unless
        another identity owned it first; returns whether the namespace's owner owns it."""
        return self._ensure(path, path.owner if isinstance(path, OwnedPath) else None)

    def ensure_namespaces(self, paths: Iterable[GroupPath]) -> None:
        """Make the namespace of every path made from an
        :class:`~.namespace.AccessNamespace` exist with its owner, once per process (as
        a check naming them does); other paths are skipped. Raises on failure."""
        self._ensure_namespaces(paths)

    def _ready(self, now: float) -> None:
        """Raise if what is cached can no longer be trusted."""
        self.feed.refresh(now)

    def _decide(self, expr: Expression, user_id: str, now: float) -> tuple[Evaluation, float]:
        """The decision and until when it stands."""
        raise NotImplementedError

    def _make(self, path: GroupPath, owner: tuple[str, str] | None) -> bool:
        """Make ``path`` exist, ``owner`` claiming its root; whether ``owner`` owns it."""
        raise NotImplementedError

    def _ensure_namespaces(self, paths: Iterable[GroupPath]) -> None:
        for path in paths:
            owner = getattr(path, "owner", None)
            if owner is not None and (path.root, *owner) not in self._ensured:
                self._ensure(GroupPath(path.root), owner)

    def _ensure(self, path: GroupPath, owner: tuple[str, str] | None) -> bool:
        owns = self._make(GroupPath(path.root, path.segments), owner)
        if owner is not None:
            self._ensured.add((path.root, *owner))
            self.cache.clear()  # a new owner may see what was cached as refused
            if not owns:
                logger.warning("group %r belongs to another identity: %s:%s is no owner",
                               path.root, *owner)
        return owns


class LocalAccess(GroupAccess):
    """Checks and grants against the store of this machine, cached in this process."""

    def __init__(self, store: Store, feed: EventFeed, *,
                 clock: Callable[[], float] = time.time,
                 cache: MembershipCache | None = None) -> None:
        super().__init__(feed, cache, clock)
        self._store = store
        self.oracle = CachedMemberships(store.access, self.cache, clock)

    def _decide(self, expr: Expression, user_id: str, now: float) -> tuple[Evaluation, float]:
        bounded = _Bounded(self.oracle)
        return evaluate(expr, user_id, bounded), bounded.until

    def _make(self, path: GroupPath, owner: tuple[str, str] | None) -> bool:
        return self._store.access.ensure_group(path, int(self._clock()), owner)

    # ------------------------------------------------------------ the programmatic API

    def add_member(self, path: GroupPath, user_id: str, grant: Grant | None = None) -> None:
        """Give ``user_id`` ``grant`` on ``path`` (default: access without the right to
        share, no end), replacing any membership they had exactly there."""
        self.ensure(path)
        self._store.access.add_member(path, user_id, int(self._clock()), grant)
        self.cache.forget(user_id)

    def remove_member(self, path: GroupPath, user_id: str) -> bool:
        """End ``user_id``'s membership exactly on ``path``; False if there was none.
        Access they hold through a group above ``path`` stays."""
        removed = self._store.access.remove_member(path, user_id, int(self._clock()))
        self.cache.forget(user_id)
        return removed

    def members(self, path: GroupPath, subtree: bool = False) -> list[Membership]:
        """Memberships stored on ``path`` (with ``subtree``, also on groups below it);
        owners are not memberships: see ``store.access.owners``."""
        return self._store.access.members(path, subtree)

    def invites(self, path: GroupPath, subtree: bool = False) -> list[Invite]:
        """Invites to ``path`` (with ``subtree``, also to groups below it), revoked ones too."""
        return self._store.access.invites_for(path, subtree)


class _Bounded:
    """The oracle for one evaluation; remembers until when its answers stand."""

    def __init__(self, oracle: CachedMemberships) -> None:
        self._oracle = oracle
        self.until = 0.0

    def memberships(self, user_id: str, paths: Sequence[GroupPath]) -> Found:
        found, self.until = self._oracle.answers(user_id, paths)
        return found
