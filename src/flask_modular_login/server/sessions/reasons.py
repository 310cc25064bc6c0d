"""Why the login page was shown: "Log in to join chat", from the ``next`` it came with.

The login page names what the person was about to do, read from the (already
checked) ``next`` target: an invite's accept link names its group, the service's
own pages name themselves, another app names its host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import flask

from ..state import current_state

PAGES = {
    "/view/sessions": "see your sessions",
    "/view/accounts": "see your linked accounts",
    "/access/view/groups": "see your access",
    "/access/view/invite": "invite someone",
    "/access/view/code": "enter an invite code",
    "/access/view/remove": "manage the members of your groups",
    "/access/view/renege": "manage your invites",
}
ACCEPT = "/access/accept/"


def login_reason(target: str | None) -> str | None:
    """"Log in to ..." for the checked ``target``; None without one."""
    if not target:
        return None
    parts = urlsplit(target)
    own = not parts.netloc or parts.netloc == flask.request.host
    prefix = current_state().settings.url_prefix.rstrip("/")
    path = parts.path
    if own and path.startswith(prefix + "/"):
        inner = path[len(prefix):]
        if inner.startswith(ACCEPT):
            return f"Log in to {_invite_action(inner[len(ACCEPT):])}."
        if inner in PAGES:
            return f"Log in to {PAGES[inner]}."
    if own:
        return "Log in to continue."
    return f"Log in to continue to {parts.hostname or parts.netloc}."


def _invite_action(code: str) -> str:
    """"join chat" when ``code`` names an invite; the link's holder may know its group."""
    from ..invitations.accept import CODE  # the accept link's code format

    invite = current_state().store.access.invite(code) if CODE.fullmatch(code) else None
    return f"join {invite.terms.group}" if invite is not None else "see your invite"
