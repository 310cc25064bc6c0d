"""Creating invites: the form (the groups the user may invite to) and the new invite
(absolute accept link, short code, QR code as inline SVG and PNG data URI).

The code is shown once: only its hash is stored, so the page that shows it is
the only place the link, the short code and the QR code exist (``no-store``).

The page follows post/redirect/get: a created invite's code waits in the
service's own session (the browser's signed cookie, scoped to the service, by invite
id, so two tabs creating at once each show their own) and
``/access/view/invite/created?invite=<id>`` shows it once, taking it out. Reloading that page
then says the invite was shown already and creates nothing; going back and
submitting the form again is a new, deliberate invite. The JSON twin answers
201 with everything at once, as before. A refused page form comes back with the
values kept and each error next to its field (400 or 403).
"""

from __future__ import annotations

import base64
from typing import Any

import flask
from werkzeug.wrappers import Response

from ...core.invitations import InviteError, InviteTerms
from ...service import access as rights
from ...store.access import IssuedInvite
from ..answers import json_wanted, refusing, status_for
from ..auth import user_id
from ..csrf import csrf_token
from ..request_body import FieldError
from ..sessions import login_flow
from ..state import current_state
from . import qr
from .form import INVITE_FIELDS, group_path, parse_invite, read_body
from .page_form import PAGE_FIELDS, field_errors, ruling_grant, to_invite_body
from .shapes import grant_dict, terms_dict

SHOWN_KEY = "invites_to_show"
MAX_WAITING = 5
"""Invites created in this browser whose page was not opened yet (two tabs at once)."""


@refusing
def invite_page() -> Response | str:
    """GET: the groups the user may invite to, with their limits, and the form."""
    listing = _listing()
    if json_wanted():
        return flask.jsonify(listing)
    return flask.render_template("login/access_invite.html", **listing, values={}, errors={})


def _listing() -> dict[str, Any]:
    state = current_state()
    held = rights.invitable(state.store.access, user_id(), state.authority.now())
    return {"groups": [{"group": str(m.group), "grant": grant_dict(m.grant)} for m in held],
            "csrf_token": csrf_token()}


@refusing
def create_invite() -> Response | str:
    """POST: parse the form, check it against the user's grant, store the invite."""
    if json_wanted():
        form = parse_invite(read_body(INVITE_FIELDS), login_flow.checked_next)
        issued, terms = current_state().access.create_invite(
            user_id(), form.group, form.request, ip=flask.request.remote_addr)
        return _shown_json(issued, terms)
    body = read_body(INVITE_FIELDS | PAGE_FIELDS)
    try:
        form = parse_invite(to_invite_body(body, _ruling(body)), login_flow.checked_next)
        issued, terms = current_state().access.create_invite(
            user_id(), form.group, form.request, ip=flask.request.remote_addr)
    except (FieldError, InviteError) as error:
        status = 400 if isinstance(error, FieldError) else status_for(error)
        page = flask.render_template("login/access_invite.html", **_listing(),
                                     values=body.values, errors=field_errors(error))
        return flask.make_response(page, status)
    waiting = dict(flask.session.get(SHOWN_KEY) or {})
    waiting[issued.id] = [issued.code, issued.short_code]
    flask.session[SHOWN_KEY] = dict(list(waiting.items())[-MAX_WAITING:])
    return flask.redirect(flask.url_for("login.invite_created", invite=issued.id), 303)


def _ruling(body: Any) -> Any:
    state = current_state()
    group = group_path("group", body.required("group"))
    return ruling_grant(rights.invitable(state.store.access, user_id(), state.authority.now()),
                        group)


@refusing
def invite_created() -> Response:
    """GET: the invite just created, once; afterwards a page saying it was shown already."""
    invite_id = flask.request.args.get("invite", "")
    waiting = dict(flask.session.get(SHOWN_KEY) or {})
    secrets = waiting.pop(invite_id, None)
    flask.session[SHOWN_KEY] = waiting
    invite = current_state().store.access.invite_by_id(invite_id) if secrets else None
    if invite is None or invite.terms.inviter_id != user_id():
        return flask.make_response(flask.render_template("login/access_invite_created.html",
                                                         gone=True))
    issued = IssuedInvite(invite.id, str(secrets[0]), str(secrets[1]))
    page = flask.render_template("login/access_invite_created.html", gone=False,
                                 **_data(issued, invite.terms))
    return flask.make_response(page)


def _data(issued: IssuedInvite, terms: InviteTerms) -> dict[str, Any]:
    url = flask.url_for("login.accept_page", code=issued.code, _external=True)
    qr_svg, qr_png = qr.images(url)
    return {
        "invite": issued.id,
        "url": url,
        "code": issued.code,
        "short_code": issued.short_code,
        "code_page": flask.url_for("login.code_page", _external=True),
        "qr_svg": qr_svg,
        "qr_png": "data:image/png;base64," + base64.b64encode(qr_png).decode(),
        "terms": terms_dict(terms),
    }


def _shown_json(issued: IssuedInvite, terms: InviteTerms) -> Response:
    response = flask.jsonify(_data(issued, terms))
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response
