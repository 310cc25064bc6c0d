"""Taking access back: remove members (``/access/view/remove``) and renege invites
(``/access/view/renege``), with JSON twins.

Lists show only what :mod:`...service.access` allows; a POST checks the object again
and answers 404 ("nothing of that kind that you may change") both when it does
not exist and when it lies outside the user's rights, so crafted ids learn
nothing (SECURITY.md 10).
"""

from __future__ import annotations

import re

import flask
from werkzeug.wrappers import Response

from ...core.invitations import Membership
from ...service import access as rights
from ...store.access import Invite
from ..answers import done, json_wanted, refusing
from ..auth import user_id
from ..csrf import csrf_token
from ..state import current_state
from .form import group_path, pattern, read_body
from .shapes import grant_dict, terms_dict

USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
INVITE_ID = re.compile(r"[0-9a-f]{64}", re.ASCII)
REMOVE_FIELDS = frozenset({"group", "user"})
RENEGE_FIELDS = frozenset({"invite"})


@refusing
def remove_page() -> Response | str:
    """GET: the memberships the user may end (their own: leave)."""
    state = current_state()
    me = user_id()
    members = rights.removable(state.store.access, me, state.authority.now())
    shown = [_member(m, me) for m in members]
    if json_wanted():
        return flask.jsonify(members=shown, csrf_token=csrf_token())
    shown.sort(key=lambda m: (m["group"], not m["you"], m["name"] or m["user"]))
    return flask.render_template("login/access_remove.html", members=shown,
                                 csrf_token=csrf_token())


@refusing
def remove_member() -> Response:
    """POST ``group``, ``user``: end that membership, if the user's rights cover it."""
    body = read_body(REMOVE_FIELDS)
    group = group_path("group", body.required("group"))
    target = pattern("user", body.required("user"), USER_ID, "a user id")
    current_state().access.remove(user_id(), group, target, ip=flask.request.remote_addr)
    message = "You left." if target == user_id() else "Member removed."
    return done(message, flask.url_for("login.remove_page"), removed={"group": str(group),
                                                                         "user": target})


@refusing
def renege_page() -> Response | str:
    """GET: the live invites the user may revoke (their own, and those of people they may
    remove)."""
    state = current_state()
    me = user_id()
    invites = rights.revocable(state.store.access, me, state.authority.now())
    shown = [_invite(i, me) for i in invites]
    if json_wanted():
        return flask.jsonify(invites=shown, csrf_token=csrf_token())
    shown.sort(key=lambda i: (i["status"] != "open", -i["created_at"]))  # open, newest first
    return flask.render_template("login/access_renege.html", invites=shown,
                                 csrf_token=csrf_token())


@refusing
def renege_invite() -> Response:
    """POST ``invite`` (an id from the list): revoke it; its link, short code and QR die."""
    body = read_body(RENEGE_FIELDS)
    invite_id = pattern("invite", body.required("invite"), INVITE_ID, "an invite id")
    current_state().access.renege(user_id(), invite_id, ip=flask.request.remote_addr)
    return done("Invite revoked: its link, short code and QR code no longer work.",
                flask.url_for("login.renege_page"), revoked=invite_id)


def _name(user: str) -> str | None:
    found = current_state().store.accounts.get(user)
    return found.name if found else None


def _member(membership: Membership, me: str) -> dict:
    return {"group": str(membership.group), "user": membership.user_id,
            "name": _name(membership.user_id), "you": membership.user_id == me,
            "grant": grant_dict(membership.grant), "invited_by": list(membership.inviters[:1])}


def _invite(invite: Invite, me: str) -> dict:
    terms, now = invite.terms, current_state().authority.now()
    used_up = terms.accepts is not None and invite.state.uses >= terms.accepts
    status = "expired" if now >= terms.accept_by else "used_up" if used_up else "open"
    return {"invite": invite.id, "group": str(terms.group), "inviter": terms.inviter_id,
            "inviter_name": _name(terms.inviter_id), "yours": terms.inviter_id == me,
            "uses": invite.state.uses, "accepts": terms.accepts, "accept_by": terms.accept_by,
            "created_at": invite.created_at, "status": status, "terms": terms_dict(terms)}
