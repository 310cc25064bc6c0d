"""Linked accounts: finish linking a provider, and unlink one (never the last).

Linking starts with ``POST /login/identities/link`` (see :mod:`.providers`)
and ends here once the provider vouched for the identity. The sessions page and
its JSON twin list the linked identities. An identity linked to another user is
refused, never merged; nothing is matched by e-mail.

    GET  /login/view/accounts/unlink  ``provider``, ``subject``: "Unlink ...?" (the page's ask)
    POST /login/identities/unlink   ``provider``, ``subject`` (CSRF)
"""

from __future__ import annotations

import flask
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from ...store.accounts import AccountError, IdentityTaken, LastIdentity, NoSuchIdentity
from ..answers import done, login_first, refuse, status_for
from ..auth import current_auth
from ..csrf import csrf_token
from ..errors import message_page
from ..platforms.profile import Profile
from ..request_body import required_text
from ..state import current_state
from .names import display_name


def finish_link(provider: str, user_id: str | None, profile: Profile) -> Response:
    """Link (provider, subject) to ``user_id``, who must still be the browser's user."""
    auth = current_auth()
    if auth.user is None or auth.user["id"] != user_id:
        return message_page(403, "Linking was started by another login: log in and start again.")
    state = current_state()
    try:
        added = state.sessions.link_identity(auth.user["id"], provider, profile.subject,
                                             ip=flask.request.remote_addr)
    except IdentityTaken as error:
        return message_page(status_for(error), f"This {display_name(provider)} account belongs "
                            "to another user, so it was not linked to yours (accounts are never "
                            "merged).", code=error.code)
    except AccountError as error:
        return message_page(status_for(error), "Your account is gone: log in again.")
    name = display_name(provider)
    flask.flash(f"{name} linked" if added else f"This {name} account was already linked")
    return flask.redirect(flask.url_for("login.accounts_page"))


def confirm_unlink() -> Response | str:
    """GET ``provider``, ``subject``: the page that asks before unlinking."""
    refusal = login_first()
    if refusal:
        return refusal
    provider = flask.request.args.get("provider", "")
    subject = flask.request.args.get("subject", "")
    linked = current_state().store.accounts.linked(current_auth().user["id"])  # type: ignore[index]
    if not any(i.provider == provider and i.subject == subject for i in linked):
        raise NotFound("No such linked account of yours.")
    identity = {"provider": provider, "subject": subject, "provider_name": display_name(provider)}
    return flask.render_template("login/confirm.html", kind="unlink", identity=identity,
                                 csrf_token=csrf_token())


def unlink() -> Response:
    """POST ``provider`` and ``subject``: remove one of the user's identities.

    The user's other sessions started through that provider end too, once no
    identity of that provider is left (unlinking a compromised account locks it out).
    """
    refusal = login_first(come_back=False)
    if refusal:
        return refusal
    provider, subject = required_text("provider"), required_text("subject")
    state = current_state()
    auth = current_auth()
    assert auth.user is not None and auth.lease is not None  # noqa: S101 - login_first
    user_id = auth.user["id"]
    try:
        state.sessions.unlink_identity(user_id, provider, subject, ip=flask.request.remote_addr)
    except LastIdentity as error:
        return refuse(status_for(error), error.code,
                      "This is the only account you log in with: link another one first.")
    except NoSuchIdentity as error:
        return refuse(status_for(error), error.code, "No such linked account of yours.")
    ended = _end_sessions_through(user_id, provider, keep=auth.lease.session_id)
    return done(f"{display_name(provider)} unlinked", flask.url_for("login.accounts_page"),
                unlinked=1, ended=ended)


def _end_sessions_through(user_id: str, provider: str, keep: str) -> int:
    return current_state().sessions.end_through_provider(user_id, provider, keep,
                                                         ip=flask.request.remote_addr)
