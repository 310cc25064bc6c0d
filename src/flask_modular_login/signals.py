"""Blinker signals the login service sends after a change committed (docs/signals.md).

Connect a receiver to react to logins, ended sessions, invites, memberships and
linked identities (metrics, e-mail, a SIEM)::

    from flask_modular_login import signals

    @signals.login.connect
    def on_login(sender, user_id, handle, provider, ip, **extra): ...

The sender is the service object (``SessionService`` or ``AccessService``). Every
signal passes keyword arguments only; they name users, session *handles*, groups
and invite ids, never a session id, a lease, or an invite code. Receivers run in
the thread that made the change, after its transaction committed; one that
raises is logged and never undoes or fails the change. Accept ``**extra``:
arguments may be added.
"""

from __future__ import annotations

import logging
from typing import Any

from blinker import NamedSignal, Namespace

logger = logging.getLogger("flask_modular_login.signals")

namespace = Namespace()

login = namespace.signal("login", doc="a session started (user_id, handle, provider, ip)")
logout = namespace.signal("logout", doc="the user logged out (user_id, handle, ip)")
session_ended = namespace.signal(
    "session-ended",
    doc="sessions ended otherwise than by logout (user_id, actor_id, handles, reason, ip)")
renewal_refused = namespace.signal(
    "renewal-refused", doc="a lease renewal was refused (user_id, handle, ip)")
invite_created = namespace.signal(
    "invite-created", doc="an invite was made (user_id, group, invite_id, ip)")
invite_redeemed = namespace.signal(
    "invite-redeemed", doc="an invite was redeemed (user_id, group, invite_id, ip)")
invite_reneged = namespace.signal(
    "invite-reneged", doc="an invite was revoked (user_id, actor_id, group, invite_id, ip)")
member_added = namespace.signal(
    "member-added", doc="a membership was given directly (user_id, actor_id, group, ip)")
member_removed = namespace.signal(
    "member-removed", doc="a membership ended (user_id, actor_id, group, ip)")
identity_linked = namespace.signal(
    "identity-linked", doc="an identity was linked (user_id, provider, ip)")
identity_unlinked = namespace.signal(
    "identity-unlinked", doc="an identity was unlinked (user_id, provider, ip)")

login_refused = namespace.signal(
    "login-refused", doc="a provider's callback was refused (provider, reason, ip)")
lease_renewed = namespace.signal(
    "lease-renewed", doc="the service renewed a lease (user_id, ip)")
channel_accepted = namespace.signal(
    "channel-accepted", doc="a channel client proved its credential (client, address)")
channel_refused = namespace.signal(
    "channel-refused", doc="a channel handshake was refused (client, address, reason)")

ALL = (login, logout, session_ended, renewal_refused, invite_created, invite_redeemed,
       invite_reneged, member_added, member_removed, identity_linked, identity_unlinked,
       login_refused, lease_renewed, channel_accepted, channel_refused)


def send(signal: NamedSignal, sender: Any, **kwargs: Any) -> None:
    """Call every receiver of ``signal``; one that raises is logged, the others still run."""
    if not signal.receivers:
        return
    for receiver in signal.receivers_for(sender):
        try:
            receiver(sender, **kwargs)
        except Exception as error:  # a receiver never fails a committed change
            logger.warning("%s receiver failed: %s: %s", signal.name, type(error).__name__,
                           error)
