"""Session use cases: start, renew, end one, end others, end through a provider, remove a user.

Each writes its rows and its events in one store transaction (:mod:`..store.sessions`)
and then tells the :class:`~.notifier.Notifier`, so that clients refuse an ended
session at once where they are listening, and within their poll otherwise.
"""

from __future__ import annotations

from .. import signals
from ..authority import LeaseAuthority
from ..cache import Cache, NullCache
from ..cache.memberships import CachedGrants
from ..cache.sessions import SessionTombstones
from ..core.errors import LoginError, SessionEnded
from ..core.leases import Issued, Lease
from ..store import Store
from ..store.audit import AuditEntry
from .notifier import Notifier


class UnknownUser(LoginError, LookupError):
    code = "unknown_user"


PURGE_EVERY = 3600
"""Seconds between two purges of the event log (on a login, at most this often)."""
MIN_EVENT_AGE = 60
"""Membership events are kept at least this long: a client's cached answers last at most
a minute, so an older event can no longer invalidate anything."""


class SessionService:
    def __init__(self, store: Store, authority: LeaseAuthority, notifier: Notifier,
                 cache: Cache | None = None) -> None:
        self.store = store
        self.authority = authority
        self._notifier = notifier
        self._purged_at = 0
        cache = cache or NullCache()
        self._tombstones = SessionTombstones(cache)
        self._grants = CachedGrants(store.access, cache)  # to forget a user's answers

    def now(self) -> int:
        return self.authority.now()

    def start(self, user_id: str, provider: str, ip: str | None = None,
              user_agent: str | None = None) -> Issued:
        """A new session and its first lease; raises ``SessionEnded`` if the user is gone.

        Audited (``login``) in the session's transaction, then signalled
        (:data:`~..signals.login`). Also purges the event log, at most once every
        :data:`PURGE_EVERY` seconds.
        """
        issued = self.authority.start_session(
            user_id, provider, ip, user_agent,
            audit=AuditEntry("login", user_id, user_id, {"provider": provider}, ip))
        signals.send(signals.login, self, user_id=user_id, provider=provider, ip=ip,
                     handle=self.store.sessions.handle(issued.lease.session_id))
        if self.now() - self._purged_at >= PURGE_EVERY:
            self.purge_events()
        return issued

    def purge_events(self) -> int:
        """Drop the revocations whose leases have all ended, and membership events older
        than the longest lease (at least :data:`MIN_EVENT_AGE`); how many were dropped."""
        self._purged_at = now = self.now()
        keep = max(self.authority.settings.lease_seconds, MIN_EVENT_AGE)
        return self.store.events.purge(now, keep_seconds=keep)

    def renew(self, expired: Lease, ip: str | None = None) -> Issued:
        """A new lease for ``expired``'s session; raises ``SessionEnded`` if it is over
        (signalled: :data:`~..signals.renewal_refused`; nothing changed, nothing audited)."""
        buried = self._tombstones.ended(expired.session_id)  # ended sessions stay ended
        try:
            if buried is not None:
                raise SessionEnded("session ended")
            issued = self.authority.renew(expired)
        except SessionEnded:
            handle = buried.handle if buried else None
            if handle is None:
                handle = self.store.sessions.handle(expired.session_id)
                self._tombstones.bury(expired.session_id, expired.session_expires_at,
                                      self.now(), handle)
            signals.send(signals.renewal_refused, self, user_id=expired.user_id,
                         handle=handle, ip=ip)
            raise
        signals.send(signals.lease_renewed, self, user_id=expired.user_id, ip=ip)
        return issued

    def end(self, session_id: str, reason: str, ip: str | None = None) -> bool:
        """End one session (logout, or the browser's previous session at login)."""
        facts = self.store.sessions.facts(session_id)
        if facts is None:
            return False
        user_id = facts.user_id
        ended = self._ended(user_id, user_id, reason, ip, session_id=session_id)
        if ended:  # after the commit
            self._tombstones.bury(session_id, facts.expires_at, self.now())
        return bool(ended)

    def end_by_handle(self, user_id: str, handle: str, ip: str | None = None) -> bool:
        """End the session ``handle`` if, and only if, it is one of ``user_id``'s."""
        return bool(self._ended(user_id, user_id, "ended", ip, handle=handle))

    def end_others(self, user_id: str, keep: str, ip: str | None = None) -> int:
        """End every session of ``user_id`` but ``keep``; how many ended."""
        return self._ended(user_id, user_id, "ended_by_user", ip, keep=keep)

    def end_through_provider(self, user_id: str, provider: str, keep: str,
                             ip: str | None = None) -> int:
        """After an unlink: end the user's sessions started through ``provider``, unless
        another identity of that provider is still linked; how many ended."""
        if any(i.provider == provider for i in self.store.accounts.linked(user_id)):
            return 0
        return self._ended(user_id, user_id, "unlinked", ip, keep=keep, provider=provider)

    def remove_user(self, user_id: str, actor_id: str | None = None) -> int:
        """End every session of ``user_id`` and delete the user; how many sessions ended.
        Raises :class:`UnknownUser`. ``actor_id``: who asks (None: an operator)."""
        if self.store.accounts.get(user_id) is None:
            raise UnknownUser(f"no user {user_id}")
        ended = self._ended(user_id, actor_id, "user_removed", None, notify=False)
        self.store.accounts.delete(user_id)
        self._grants.forget(user_id)
        return self._told(ended)

    def link_identity(self, user_id: str, provider: str, subject: str,
                      ip: str | None = None) -> bool:
        """Link (provider, subject) to the user; False if it already was theirs. Raises the
        store's ``IdentityTaken`` or ``AccountError``. Audited and signalled when linked."""
        audit = AuditEntry("identity_linked", user_id, user_id, {"provider": provider}, ip)
        added = self.store.accounts.link(user_id, provider, subject, self.now(), audit=audit)
        self._grants.forget(user_id)  # an identity may own groups
        if added:
            signals.send(signals.identity_linked, self, user_id=user_id, provider=provider,
                         ip=ip)
        return added

    def unlink_identity(self, user_id: str, provider: str, subject: str,
                        ip: str | None = None) -> None:
        """Unlink one of the user's identities (never the last); raises the store's
        ``NoSuchIdentity`` or ``LastIdentity``. The caller then ends the sessions started
        through it (:meth:`end_through_provider`)."""
        audit = AuditEntry("identity_unlinked", user_id, user_id, {"provider": provider}, ip)
        self.store.accounts.unlink(user_id, provider, subject, self.now(), audit=audit)
        self._grants.forget(user_id)
        signals.send(signals.identity_unlinked, self, user_id=user_id, provider=provider, ip=ip)

    def _ended(self, user_id: str, actor_id: str | None, reason: str, ip: str | None,
               notify: bool = True, **which: str) -> int:
        """End the sessions ``which`` names (always within ``user_id``'s), audited as
        ``logout`` or ``session_ended`` in the same transaction; then signal."""
        kind = "logout" if reason == "logout" else "session_ended"
        ended = self.store.sessions.end(
            reason, self.now(), user_id=user_id,
            audit=AuditEntry(kind, user_id, actor_id, {}, ip), **which)
        handles = [e.handle for e in ended]
        if not ended:
            return 0
        if kind == "logout":
            signals.send(signals.logout, self, user_id=user_id, handle=handles[0], ip=ip)
        else:
            signals.send(signals.session_ended, self, user_id=user_id, actor_id=actor_id,
                         handles=handles, reason=reason, ip=ip)
        return self._told(len(ended)) if notify else len(ended)

    def _told(self, changed: int) -> int:
        if changed:
            self._notifier.notify()
        return changed
