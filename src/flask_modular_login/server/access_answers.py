"""How the invitation views answer: JSON or a page, login first, errors with stable codes.

A view answers JSON when its endpoint is a JSON twin (its name ends in
``_json``), when the request is JSON, or when the client asks for JSON (see
:func:`wants_json`); otherwise a page or a redirect.

Refusals map the core's errors to statuses (docs/invitations.md)::

    not_found 404 · expired 410 · revoked 410 · used_up 409 · already_member 409
    self_invite 403 · exceeds_* / outside_group 403 · bad_value, bad_request 400
    confirmation_required 400 · rate_limited 429 · login_required 401

A JSON refusal is ``{"error": code, "message": ..., "field": ..., "limit": ...}``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar

import flask
from werkzeug.wrappers import Response

from ..core import invitations as rules
from ..core.invitations import Grant, InviteTerms
from ..negotiation import json_error, wants_json
from ..service.access import AlreadyRevoked, NotYours
from ..store.access import InviteNotFound
from .auth import current_auth
from .errors import message_page
from .invite_form import FieldError, removal_name

View = TypeVar("View", bound=Callable[..., Any])

STATUS: tuple[tuple[type[Exception], int], ...] = (
    (InviteNotFound, 404),
    (NotYours, 404),
    (AlreadyRevoked, 409),
    (rules.Expired, 410),
    (rules.Revoked, 410),
    (rules.UsedUp, 409),
    (rules.AlreadyMember, 409),
    (rules.SelfInvite, 403),
    (rules.Escalation, 403),
    (rules.InviteError, 400),
)


class Refusal(Exception):
    """A view's own refusal (not from the core): ``status``, stable ``code``, message."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = extra


def json_wanted() -> bool:
    endpoint = flask.request.endpoint or ""
    return endpoint.endswith("_json") or flask.request.is_json or wants_json()


def user_id() -> str:
    """The logged-in user's id; views call :func:`login_first` before."""
    user = current_auth().user
    assert user is not None  # noqa: S101 - guarded by login_first
    return user["id"]


def login_first() -> Response | None:
    """None when logged in; else 401 (JSON) or a redirect to login coming back here."""
    if current_auth().user is not None:
        return None
    login = flask.url_for("login.login_page", next=flask.request.path)  # every path has a GET
    if json_wanted():
        return json_error(401, "login_required", "log in first", login=login)
    return flask.redirect(login)


def refuse(status: int, code: str, message: str, **extra: Any) -> Response:
    if json_wanted():
        return json_error(status, code, message, **extra)
    return message_page(status, message)


def refusal_for(error: Exception) -> Response:
    """The answer to a core error, a missing invite, a bad field or a :class:`Refusal`."""
    if isinstance(error, Refusal):
        response = refuse(error.status, error.code, str(error), **error.extra)
        if error.status == 429:
            response.headers["Retry-After"] = str(error.extra.get("retry_after", 1))
        return response
    if isinstance(error, FieldError):
        return refuse(400, "bad_request", error.description or "bad request", field=error.field)
    status = next(status for kind, status in STATUS if isinstance(error, kind))
    evidence = {name: _plain(getattr(error, name, None))
                for name in ("field", "requested", "limit")}
    return refuse(status, error.code, str(error),  # type: ignore[attr-defined]
                  **{k: v for k, v in evidence.items() if v is not None})


def _plain(value: object) -> object:
    """Evidence as JSON can carry it: numbers, text, booleans; anything else as text."""
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def refusing(view: View) -> View:
    """Run ``view``; answer its login requirement and refusals as above."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        refusal = login_first()
        if refusal is not None:
            return refusal
        try:
            return view(*args, **kwargs)
        except (Refusal, FieldError, InviteNotFound, NotYours, AlreadyRevoked,
                rules.InviteError) as error:
            return refusal_for(error)

    return wrapper  # type: ignore[return-value]


def done(message: str, destination: str, status: int = 200, **data: Any) -> Response:
    """Success: JSON ``{"message", **data}`` or a flashed message and a redirect."""
    if json_wanted():
        response = flask.jsonify(message=message, **data)
        response.status_code = status
        return response
    flask.flash(message)
    return flask.redirect(destination)


def grant_dict(grant: Grant) -> dict[str, Any]:
    return {"expires": grant.expires, "spots": grant.spots, "depth": grant.depth,
            "removal": removal_name(grant.removal), "deplete": grant.deplete}


def terms_dict(terms: InviteTerms) -> dict[str, Any]:
    return {"group": str(terms.group), "accept_by": terms.accept_by, "accepts": terms.accepts,
            "spots": terms.spots, "depth": terms.depth, "access_expires": terms.access_expires,
            "access_for": terms.access_for, "removal": removal_name(terms.removal),
            "deplete": terms.deplete, "redirect": terms.redirect, "confirm": terms.confirm}
