"""Accepting an invite: by its link (``/access/accept/<code>``, what the QR code carries) or
by its short code (``/access/view/code``, rate limited per user and per IP).

GET shows who invites you, to what, with which limits, and offers "Join" and
"Not now"; or it refuses now with the error redeeming would raise (a revoked
invite answers 410). Nothing joins without the person pressing Join: the page
never submits itself. POST joins atomically (:meth:`AccessStore.redeem`), then
goes to the invite's redirect, checked again against the allowlist, or to the
user's groups page, which says "You joined <group>" (read from the URL and shown
only if the user really holds that group, so no message is left behind for a
later page). An invite that asks for confirmation needs ``confirmed`` in the
POST (the page's Join button always sends it). A short code is shown the same
way first; the page's Join then posts it again with ``join``.

Short codes are read leniently (case, spaces and dashes do not matter); a code
with a character no short code uses (0, 1, I, L, O, ...) is refused saying which
one, and on the page the error stands next to the field with the typed value kept.

The short-code limiters live in ``app.extensions`` and count in memcached, shared by
every process and host, when ``LOGIN_MEMCACHED`` is set, else (and while it is
down) per process (:mod:`.ratelimit`): every attempt counts, found or not. The client's IP
(IPv6: its /64) is checked first, and a user is counted only while their IP has
attempts left, so accounts made in bulk cannot fill the per-user table; an
attempt the user's own limit refuses does not spend the IP's, so one user alone
uses at most a third of what their IP may try.
"""

from __future__ import annotations

import re

import flask
from werkzeug.wrappers import Response

from ...core.invitations import Membership
from ...store.access import SHORT_ALPHABET, SHORT_LENGTH, Invite, InviteNotFound
from ..answers import Refusal, json_wanted, refusing
from ..auth import user_id
from ..csrf import csrf_token
from ..sessions import login_flow
from ..state import current_state
from .form import Body, flag, read_body
from .ratelimit import Limiter, SharedRateLimiter, client_key, retry_header
from .shapes import grant_dict, terms_dict

CODE = re.compile(r"[A-Za-z0-9_-]{16,64}", re.ASCII)
ACCEPT_FIELDS = frozenset({"confirmed"})
CODE_FIELDS = frozenset({"code", "join", "confirmed"})
USER_LIMIT = (10, 600)  # short-code attempts per user per 10 minutes (see ratelimit)
IP_LIMIT = (30, 600)  # ... per client IP
LIMITERS = "flask_modular_login.short_code_limiters"


@refusing
def accept_page(code: str) -> Response | str:
    """GET: what the invite grants, and the Join form."""
    invite = _invite_by_code(code)
    return _preview(invite, flask.url_for("login.accept_invite", code=code), {})


@refusing
def accept_invite(code: str) -> Response:
    """POST: join the invite's group."""
    body = read_body(ACCEPT_FIELDS)
    invite = _invite_by_code(code)
    _check_confirmed(invite, body)
    joined = current_state().access.redeem(code, user_id(), ip=flask.request.remote_addr)
    return _joined(invite, joined)


@refusing
def code_page() -> str:
    """GET: the form to type a short code into."""
    return flask.render_template("login/access_code.html", csrf_token=csrf_token())


@refusing
def enter_code() -> Response | str:
    """POST ``code``: show the invite; with ``join``, join it. Each POST counts.

    On the page a mistyped or unknown code shows the form again, the error next to
    the field and the typed text kept."""
    body = read_body(CODE_FIELDS)
    try:
        short = _short_code(body)
        _spend_attempt()
        invite = _invite_by_short_code(short)
    except (Refusal, InviteNotFound) as error:
        if json_wanted() or getattr(error, "status", 400) == 429:
            raise
        return _code_form_again(body, error)
    if not _given(body, "join"):
        return _preview(invite, flask.url_for("login.enter_code"), {"code": short, "join": "yes"})
    _check_confirmed(invite, body)
    joined = current_state().access.redeem_by_id(invite.id, user_id(),
                                                         ip=flask.request.remote_addr)
    return _joined(invite, joined)


# -- parse ---------------------------------------------------------------------------------


def _short_code(body: Body) -> str:
    raw = body.required("code")
    short = normal_short_code(raw) if isinstance(raw, str) else ""
    problem = short_code_problem(short)
    if problem:
        raise Refusal(400, "bad_request", f"code: {problem}", field="code")
    return short


def normal_short_code(typed: str) -> str:
    """``typed`` without spaces and dashes, in capitals (the way codes are stored)."""
    return "".join(typed.split()).replace("-", "").upper()


def short_code_problem(short: str) -> str | None:
    """What is wrong with a normalised short code, in words; None if it may be one."""
    wrong = [ch for ch in dict.fromkeys(short) if ch not in SHORT_ALPHABET]
    if wrong:
        shown = " or ".join(repr(ch) for ch in wrong[:3])
        return (f"invite codes never contain {shown}: they leave out 0, 1, I, L and O, "
                "which look alike; check that character")
    if len(short) != SHORT_LENGTH:
        return f"an invite code has {SHORT_LENGTH} characters, this one has {len(short)}"
    return None


def _given(body: Body, name: str) -> bool:
    """Whether the flag ``name`` is present and on."""
    value = body.get(name)
    return value is not None and flag(name, value, body.json)


def _check_confirmed(invite: Invite, body: Body) -> None:
    if not invite.terms.confirm:
        return
    if not _given(body, "confirmed"):
        raise Refusal(400, "confirmation_required",
                      "this invite asks you to confirm: press Join (JSON: confirmed: true)",
                      field="confirmed")


# -- decide --------------------------------------------------------------------------------


def _invite_by_code(code: str) -> Invite:
    invite = current_state().store.access.invite(code) if CODE.fullmatch(code) else None
    if invite is None:
        raise InviteNotFound("no such invite: check the link")
    return invite


def _invite_by_short_code(short: str) -> Invite:
    access = current_state().store.access
    invite_id = access.invite_id_for_short_code(short)
    invite = access.invite_by_id(invite_id) if invite_id else None
    if invite is None:
        raise InviteNotFound("no invite has this code")
    return invite


def _limiters() -> tuple[Limiter, Limiter]:
    extensions = flask.current_app.extensions
    if LIMITERS not in extensions:
        clock = current_state().authority.clock
        cache = current_state().services.cache
        extensions.setdefault(LIMITERS, (
            SharedRateLimiter(cache, "code:user", *USER_LIMIT, clock=clock),
            SharedRateLimiter(cache, "code:ip", *IP_LIMIT, clock=clock)))
    return extensions[LIMITERS]


def _spend_attempt() -> None:
    """Count one short-code attempt for the user and for the IP; 429 past either limit.

    The IP is asked first without counting: a user key is added only while the IP
    may still try. A refusal by the user's limit does not spend the IP's attempts.
    """
    per_user, per_ip = _limiters()
    ip = client_key(flask.request.remote_addr)
    wait = per_ip.wait(ip)
    if wait is None:
        wait = per_user.hit(user_id())
    if wait is None:
        wait = per_ip.hit(ip)
    if wait is not None:
        raise Refusal(429, "rate_limited", "too many codes tried: wait a few minutes",
                      retry_after=int(retry_header(wait)))


# -- answer --------------------------------------------------------------------------------


def _code_form_again(body: Body, error: Exception) -> Response:
    """The code page again: the error next to the field, what was typed kept."""
    typed = body.get("code")
    message = str(error).removeprefix("code: ")
    status = error.status if isinstance(error, Refusal) else 404
    page = flask.render_template("login/access_code.html", csrf_token=csrf_token(),
                                 typed=typed if isinstance(typed, str) else "",
                                 error=message[:1].upper() + message[1:] + ".")
    return flask.make_response(page, status)


def _preview(invite: Invite, action: str, hidden: dict[str, str]) -> Response | str:
    state = current_state()
    grant = state.access.preview(invite, user_id())
    inviter = state.store.accounts.get(invite.terms.inviter_id)
    data = {"group": str(invite.terms.group), "grant": grant_dict(grant),
            "inviter": inviter.name if inviter else None, "confirm": invite.terms.confirm,
            "redirect": login_flow.checked_next(invite.terms.redirect), "action": action,
            "fields": hidden, "csrf_token": csrf_token()}
    if json_wanted():
        return flask.jsonify(data)
    return flask.render_template("login/access_accept.html", **data,
                                 terms=terms_dict(invite.terms))  # unframeable: ..headers


def _joined(invite: Invite, joined: Membership) -> Response:
    """JSON ``{"message", "joined", "grant", "redirect"}``; a page goes to the invite's
    redirect, or to the groups page saying "You joined" (no flash is left behind)."""
    target = login_flow.checked_next(invite.terms.redirect)
    destination = target or flask.url_for("login.groups_page")
    if json_wanted():
        return flask.jsonify(message=f"You joined {joined.group}.", joined=str(joined.group),
                             grant=grant_dict(joined.grant), redirect=destination)
    return flask.redirect(target or flask.url_for("login.groups_page", joined=str(joined.group)))
