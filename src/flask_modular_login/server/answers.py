"""Page or JSON: how the views of the login service answer.

A view answers JSON when its endpoint is a JSON twin (its name ends in ``_json``),
when the request is JSON, or when the client asks for JSON (see
:func:`~flask_modular_login.negotiation.wants_json`); otherwise a page or a
redirect (:func:`json_wanted`). The login page and logout look at the Accept
header alone (a JSON body does not make them answer JSON), as they always did. Then:

* **login first** (:func:`login_first`, or the :func:`refusing` decorator): a
  page load goes to the login page and comes back; a JSON call gets
  ``401 {"error": "login_required", "message": ..., "login": <login page URL>}``;
* **success** (:func:`done`): JSON ``{"message": ..., **data}``, or the message
  flashed and a redirect;
* **refusal** (:func:`refuse`, :func:`refusal_for`): JSON
  ``{"error": code, "message": ..., "field": ..., "limit": ...}``, or a message
  page, with the same status.

The errors of the core, the store, the services and the providers get their
status from one table, :data:`STATUS` (docs/invitations.md lists the codes)::

    not_found 404 · expired 410 · revoked 410 · used_up 409 · already_member 409
    already_revoked 409 · self_invite 403 · exceeds_* / outside_group 403
    bad_value 400 · identity_unknown 404 · identity_last 409 · identity_taken 409
    account_error 403 · login_denied 403 · provider errors 400

and a view's own :class:`Refusal` names its status: ``bad_request`` 400,
``confirmation_required`` 400, ``rate_limited`` 429. Bad input caught before a
view (CSRF, a bad body, an unknown route) is answered by :mod:`.errors`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar

import flask
from werkzeug.wrappers import Response

from ..core import invitations as rules
from ..core.errors import LoginError
from ..negotiation import json_error, wants_json
from ..service.access import AlreadyRevoked, NotYours
from ..store.access import InviteNotFound
from ..store.accounts import AccountError, IdentityTaken, LastIdentity, NoSuchIdentity
from .auth import current_auth
from .errors import message_page
from .platforms.profile import LoginDenied, ProviderError
from .request_body import FieldError

View = TypeVar("View", bound=Callable[..., Any])

STATUS: tuple[tuple[type[LoginError], int], ...] = (
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
    (NoSuchIdentity, 404),
    (LastIdentity, 409),
    (IdentityTaken, 409),
    (AccountError, 403),
    (LoginDenied, 403),
    (ProviderError, 400),
)
"""Error class -> HTTP status; the first class the error is an instance of wins."""


class Refusal(LoginError):
    """A view's own refusal (not from the core): ``status``, stable ``code``, message."""

    code = "refused"

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = extra


def json_wanted() -> bool:
    endpoint = flask.request.endpoint or ""
    return endpoint.endswith("_json") or flask.request.is_json or wants_json()


def status_for(error: LoginError) -> int:
    """The status of ``error`` in :data:`STATUS`."""
    return next(status for kind, status in STATUS if isinstance(error, kind))


def login_first(*, come_back: bool = True) -> Response | None:
    """None when logged in; else 401 (JSON) or a redirect to login coming back here.

    The JSON 401's ``login`` is the login page; with ``come_back`` it carries
    ``next`` back to this path, as the invitation views answer. The sessions and
    identity views pass ``come_back=False``: their 401 has always named the bare
    login page (their redirect for a page load does come back).
    """
    if current_auth().user is not None:
        return None
    back = flask.url_for("login.login_page", next=flask.request.path)  # every path has a GET
    if json_wanted():
        login = back if come_back else flask.url_for("login.login_page")
        return json_error(401, "login_required", "log in first", login=login)
    return flask.redirect(back)


def refuse(status: int, code: str, message: str, **extra: Any) -> Response:
    if json_wanted():
        return json_error(status, code, message, **extra)
    return message_page(status, message, code)


def refusal_for(error: Exception) -> Response:
    """The answer to an error of :data:`STATUS`, a bad field or a :class:`Refusal`."""
    if isinstance(error, Refusal):
        response = refuse(error.status, error.code, str(error), **error.extra)
        if error.status == 429:
            response.headers["Retry-After"] = str(error.extra.get("retry_after", 1))
        return response
    if isinstance(error, FieldError):
        return refuse(400, "bad_request", error.description or "bad request", field=error.field)
    assert isinstance(error, LoginError)  # noqa: S101 - refusing() catches no other kind
    evidence = {name: _plain(getattr(error, name, None))
                for name in ("field", "requested", "limit")}
    return refuse(status_for(error), error.code, str(error),
                  **{k: v for k, v in evidence.items() if v is not None})


def _plain(value: object) -> object:
    """Evidence as JSON can carry it: numbers, text, booleans; anything else as text."""
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


REFUSED: tuple[type[Exception], ...] = (Refusal, FieldError, *(kind for kind, _ in STATUS))
"""What :func:`refusing` answers with :func:`refusal_for`; anything else is a bug (500)."""


def refusing(view: View) -> View:
    """Run ``view`` once the user is logged in; answer its refusals as above."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        refusal = login_first()
        if refusal is not None:
            return refusal
        try:
            return view(*args, **kwargs)
        except REFUSED as error:
            return refusal_for(error)

    return wrapper  # type: ignore[return-value]


def done(message: str, destination: str, status: int = 200, **data: Any) -> Response:
    """JSON ``{"message", **data}`` with ``status``; or a page: the message flashed and a
    redirect to ``destination``, or for a ``status`` of 400 or more a message page.

    Unlike :func:`refuse`, the JSON has no ``error`` code: ending a session that is
    already gone answers ``404 {"message", "ended": 0}`` this way, as it always did.
    """
    if json_wanted():
        response = flask.jsonify(message=message, **data)
        response.status_code = status
        return response
    if status >= 400:
        return message_page(status, message)
    flask.flash(message)
    return flask.redirect(destination)
