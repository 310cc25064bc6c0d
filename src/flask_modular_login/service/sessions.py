"""Session use cases: start, renew, end one, end others, end through a provider, remove a user.

Each writes its rows and its events in one store transaction (:mod:`..store.sessions`)
and then tells the :class:`~.notifier.Notifier`, so that clients refuse an ended
session at once where they are listening, and within their poll otherwise.
"""

from __future__ import annotations

from ..authority import LeaseAuthority
from ..core.errors import LoginError
from ..core.leases import Issued, Lease
from ..store import Store
from .notifier import Notifier


class UnknownUser(LoginError, LookupError):
    code = "unknown_user"


PURGE_EVERY = 3600
"""Seconds between two purges of the event log (on a login, at most this often)."""
MIN_EVENT_AGE = 60
"""Membership events are kept at least this long: a client's cached answers last at most
a minute, so an older event can no longer invalidate anything."""


class SessionService:
    def __init__(self, store: Store, authority: LeaseAuthority, notifier: Notifier) -> None:
        self.store = store
        self.authority = authority
        self._notifier = notifier
        self._purged_at = 0

    def now(self) -> int:
        return self.authority.now()

    def start(self, user_id: str, provider: str, ip: str | None = None,
              user_agent: str | None = None) -> Issued:
        """A new session and its first lease; raises ``SessionEnded`` if the user is gone.

        Also purges the event log, at most once every :data:`PURGE_EVERY` seconds.
        """
        issued = self.authority.start_session(user_id, provider, ip, user_agent)
        if self.now() - self._purged_at >= PURGE_EVERY:
            self.purge_events()
        return issued

    def purge_events(self) -> int:
        """Drop the revocations whose leases have all ended, and membership events older
        than the longest lease (at least :data:`MIN_EVENT_AGE`); how many were dropped."""
        self._purged_at = now = self.now()
        keep = max(self.authority.settings.lease_seconds, MIN_EVENT_AGE)
        return self.store.events.purge(now, keep_seconds=keep)

    def renew(self, expired: Lease) -> Issued:
        """A new lease for ``expired``'s session; raises ``SessionEnded`` if it is over."""
        return self.authority.renew(expired)

    def end(self, session_id: str, reason: str) -> bool:
        """End one session (logout, or the browser's previous session at login)."""
        return self._told(self.store.sessions.revoke(session_id, reason, self.now()))

    def end_by_handle(self, user_id: str, handle: str) -> bool:
        """End the session ``handle`` if, and only if, it is one of ``user_id``'s."""
        return self._told(self.store.sessions.revoke_handle(user_id, handle, "ended",
                                                            self.now()))

    def end_others(self, user_id: str, keep: str) -> int:
        """End every session of ``user_id`` but ``keep``; how many ended."""
        return self._told(self.store.sessions.revoke_user(user_id, "ended_by_user",
                                                          self.now(), keep=keep))

    def end_through_provider(self, user_id: str, provider: str, keep: str) -> int:
        """After an unlink: end the user's sessions started through ``provider``, unless
        another identity of that provider is still linked; how many ended."""
        if any(i.provider == provider for i in self.store.accounts.linked(user_id)):
            return 0
        return self._told(self.store.sessions.revoke_user(user_id, "unlinked", self.now(),
                                                          keep=keep, provider=provider))

    def remove_user(self, user_id: str) -> int:
        """End every session of ``user_id`` and delete the user; how many sessions ended.
        Raises :class:`UnknownUser`."""
        if self.store.accounts.get(user_id) is None:
            raise UnknownUser(f"no user {user_id}")
        ended = self.store.sessions.revoke_user(user_id, "user_removed", self.now())
        self.store.accounts.delete(user_id)
        return self._told(ended)

    def _told(self, changed: int) -> int:
        if changed:
            self._notifier.notify()
        return changed
