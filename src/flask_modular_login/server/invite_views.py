"""Creating invites: the form (the groups the user may invite to) and the new invite
(absolute accept link, short code, QR code as inline SVG and PNG data URI).

The code is shown once: only its hash is stored, so the page that shows it is
the only place the link, the short code and the QR code exist (``no-store``).
"""

from __future__ import annotations

import base64

import flask
from werkzeug.wrappers import Response

from ..core import invitations as rules
from ..core.invitations import InviteTerms
from ..store.access import IssuedInvite
from . import access_rights, login_flow, qr
from .access_answers import grant_dict, json_wanted, refusing, terms_dict, user_id
from .csrf import csrf_token
from .invite_form import INVITE_FIELDS, InviteForm, parse_invite, read_body
from .state import current_state


@refusing
def invite_page() -> Response | str:
    """GET: the groups the user may invite to, with their limits, and the form."""
    state = current_state()
    held = access_rights.invitable(state.store.access, user_id(), state.authority.now())
    listing = {"groups": [{"group": str(m.group), "grant": grant_dict(m.grant)} for m in held],
               "csrf_token": csrf_token()}
    if json_wanted():
        return flask.jsonify(listing)
    return flask.render_template("login/access_invite.html", **listing)


@refusing
def create_invite() -> Response:
    """POST: parse the form, check it against the user's grant, store the invite."""
    form = parse_invite(read_body(INVITE_FIELDS), login_flow.checked_next)
    terms = _checked_terms(form)
    state = current_state()
    issued = state.store.access.create_invite(terms, state.authority.now())
    return _shown(issued, terms)


def _checked_terms(form: InviteForm) -> InviteTerms:
    """The terms to store; raises the core's Escalation or BadValue (nothing stored)."""
    state = current_state()
    now = state.authority.now()
    inviter = user_id()
    held = state.store.access.holding(inviter, form.group, now)
    if held is None:
        raise rules.OutsideGroup("you have no access to this group", field="group",
                                 requested=str(form.group))
    return rules.validate_invite(inviter, held.grant, held.group, form.request(now, held.grant),
                                 now)


def _shown(issued: IssuedInvite, terms: InviteTerms) -> Response:
    url = flask.url_for("login.accept_page", code=issued.code, _external=True)
    data = {
        "invite": issued.id,
        "url": url,
        "code": issued.code,
        "short_code": issued.short_code,
        "code_page": flask.url_for("login.code_page", _external=True),
        "qr_svg": qr.svg(url),
        "qr_png": "data:image/png;base64," + base64.b64encode(qr.png(url)).decode(),
        "terms": terms_dict(terms),
    }
    if json_wanted():
        response = flask.jsonify(data)
        response.status_code = 201
    else:
        response = flask.make_response(
            flask.render_template("login/access_invite_created.html", **data))
    response.headers["Cache-Control"] = "no-store"
    return response
