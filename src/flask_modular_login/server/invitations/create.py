"""Creating invites: the form (the groups the user may invite to) and the new invite
(absolute accept link, short code, QR code as inline SVG and PNG data URI).

The code is shown once: only its hash is stored, so the page that shows it is
the only place the link, the short code and the QR code exist (``no-store``).
"""

from __future__ import annotations

import base64

import flask
from werkzeug.wrappers import Response

from ...core.invitations import InviteTerms
from ...service import access as rights
from ...store.access import IssuedInvite
from ..answers import json_wanted, refusing
from ..auth import user_id
from ..csrf import csrf_token
from ..sessions import login_flow
from ..state import current_state
from . import qr
from .form import INVITE_FIELDS, parse_invite, read_body
from .shapes import grant_dict, terms_dict


@refusing
def invite_page() -> Response | str:
    """GET: the groups the user may invite to, with their limits, and the form."""
    state = current_state()
    held = rights.invitable(state.store.access, user_id(), state.authority.now())
    listing = {"groups": [{"group": str(m.group), "grant": grant_dict(m.grant)} for m in held],
               "csrf_token": csrf_token()}
    if json_wanted():
        return flask.jsonify(listing)
    return flask.render_template("login/access_invite.html", **listing)


@refusing
def create_invite() -> Response:
    """POST: parse the form, check it against the user's grant, store the invite."""
    form = parse_invite(read_body(INVITE_FIELDS), login_flow.checked_next)
    issued, terms = current_state().access.create_invite(user_id(), form.group, form.request,
                                                         ip=flask.request.remote_addr)
    return _shown(issued, terms)


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
