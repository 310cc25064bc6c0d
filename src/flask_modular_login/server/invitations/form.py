"""Strict parsing of the invitation views' request bodies (form or JSON).

Every POST body is read once by :func:`read_body`: a JSON object (with a JSON
content type) or a UTF-8 form (:mod:`..request_body`), only known fields, each at
most once. Then the field parsers turn raw values into typed ones or raise
:class:`FieldError` (400) naming the field. Nothing here looks at the store or
at the inviter's rights: :meth:`InviteForm.request` makes the core's
:class:`InviteRequest`, which :func:`core.invitations.validate_invite` then
checks against the inviter's grant.

Conventions (docs/invitations.md has the table):

* A form field left empty means "not given" (the default applies).
* Counts (``accepts``, ``spots``, ``depth``): an integer from the form or JSON;
  ``"unlimited"`` (form) or ``null`` (JSON) means no limit.
* Durations (``accept_for``, ``access_for``): whole seconds from the form, a
  number of seconds in JSON; between 1 second and 100 years.
* Instants (``accept_by``, ``access_expires``): seconds since the epoch, or in
  the form an ISO 8601 date-time (UTC unless it names an offset).
* Flags (``confirm``, ``deplete``): JSON booleans; in the form ``on``/``true``/
  ``1``/``yes`` or ``off``/``false``/``0``/``no``, in any case (read by
  :func:`flask_modular_login.config.parse_flag`, as the settings are).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any

import flask

from ...config import parse_flag
from ...core.groups import GroupPath
from ...core.invitations import Grant, InviteRequest, Removal
from .. import request_body
from ..request_body import FieldError

MAX_COUNT = 1_000_000
MAX_SECONDS = 100 * 365 * 86_400
MAX_INSTANT = 253_402_300_799  # 9999-12-31T23:59:59Z
MAX_PATH = 1000
MAX_TEXT = 2048
DEFAULT_ACCEPT_SECONDS = 7 * 86_400
UNLIMITED = "unlimited"
CSRF_FIELD = "csrf_token"

_DIGITS = re.compile(r"[0-9]{1,16}", re.ASCII)
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.+\-Z]{4,24}", re.ASCII)
_REMOVAL = {"none": Removal.NONE, "invited": Removal.INVITED, "any_below": Removal.ANY_BELOW}


@dataclass(frozen=True)
class Body:
    """A request body's known, non-empty fields, and whether it came as JSON."""

    values: dict[str, Any]
    json: bool

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def required(self, name: str) -> Any:
        if self.values.get(name) is None:
            raise FieldError(name, "is required")
        return self.values[name]


def read_body(allowed: frozenset[str]) -> Body:
    """The request's fields; :class:`FieldError` for unknown or repeated fields or a bad body
    (read by :func:`..request_body.fields`)."""
    data = request_body.fields()
    if flask.request.is_json:
        _known(data, allowed)
        return Body(data, json=True)
    _known(data, allowed | {CSRF_FIELD})
    return Body({name: value for name, value in data.items()
                 if name != CSRF_FIELD and value != ""}, json=False)


def _known(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(str(name) for name in data if name not in allowed)
    if unknown:
        shown = ", ".join(name[:40] for name in unknown[:5])
        raise FieldError(shown, "unknown field")


# -- field parsers ---------------------------------------------------------------------------


def text(name: str, value: object, *, limit: int = MAX_TEXT) -> str:
    """A printable string of 1 to ``limit`` characters."""
    if not isinstance(value, str):
        raise FieldError(name, "must be text")
    if not value or len(value) > limit or not value.isprintable():
        raise FieldError(name, f"must be 1 to {limit} printable characters")
    return value


def group_path(name: str, value: object) -> GroupPath:
    try:
        return GroupPath.parse(text(name, value, limit=MAX_PATH))
    except (TypeError, ValueError):
        raise FieldError(name, "must be a group path such as team/project") from None


def pattern(name: str, value: object, regex: re.Pattern[str], what: str) -> str:
    """Text that matches ``regex`` in full (ASCII only), else a FieldError saying ``what``."""
    if not isinstance(value, str) or not regex.fullmatch(value):
        raise FieldError(name, f"must be {what}")
    return value


def count(name: str, value: object, json: bool, *, least: int = 0) -> int | None:
    """A count in ``least..MAX_COUNT``; None: unlimited."""
    if json:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(name, "must be an integer or null (unlimited)")
        number = value
    elif value == UNLIMITED:
        return None
    else:
        number = int(pattern(name, value, _DIGITS, "a whole number or 'unlimited'"))
    if not least <= number <= MAX_COUNT:
        raise FieldError(name, f"must be between {least} and {MAX_COUNT}")
    return number


def duration(name: str, value: object, json: bool) -> float:
    """Seconds, from 1 to 100 years."""
    number = _number(name, value) if json else int(pattern(name, value, _DIGITS, "whole seconds"))
    if not 1 <= number <= MAX_SECONDS:
        raise FieldError(name, f"must be between 1 and {MAX_SECONDS} seconds")
    return number


def instant(name: str, value: object, json: bool) -> float:
    """Seconds since the epoch (or, in a form, an ISO 8601 date-time)."""
    if json:
        number = _number(name, value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        number = _iso(name, value)
    if not 0 < number <= MAX_INSTANT:
        raise FieldError(name, "must be a time between 1970 and 9999")
    return number


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FieldError(name, "must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldError(name, "must be a finite number")
    return value


def _iso(name: str, value: object) -> float:
    what = "seconds since the epoch or a date-time such as 2030-01-31T12:00 (UTC)"
    pattern(name, value, _ISO, what)
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(name, f"must be {what}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def flag(name: str, value: object, json: bool) -> bool:
    if json:
        if not isinstance(value, bool):
            raise FieldError(name, "must be true or false")
        return value
    try:
        return parse_flag(value)
    except ValueError:
        raise FieldError(name, "must be on or off") from None


def removal(name: str, value: object) -> Removal:
    if not isinstance(value, str) or value not in _REMOVAL:
        raise FieldError(name, f"must be one of {', '.join(_REMOVAL)}")
    return _REMOVAL[value]


def removal_name(value: Removal) -> str:
    return next(name for name, member in _REMOVAL.items() if member is value)


# -- the create-invite form ------------------------------------------------------------------


@dataclass(frozen=True)
class InviteForm:
    """A parsed create-invite request; ``None`` for a time means "not given"."""

    group: GroupPath
    accept_by: float | None = None
    accept_for: float | None = None
    accepts: int | None = 1
    spots: int | None = 0
    depth: int | None = 0
    access_expires: float | None = None
    access_for: float | None = None
    removal: Removal = Removal.NONE
    deplete: bool | None = None
    redirect: str | None = None
    confirm: bool = False

    def request(self, now: float, inviter: Grant) -> InviteRequest:
        """The core's request. Acceptance defaults to 7 days, never past the inviter's access."""
        accept_by = self.accept_by
        if accept_by is None and self.accept_for is not None:
            accept_by = now + self.accept_for
        if accept_by is None:
            default = now + DEFAULT_ACCEPT_SECONDS
            accept_by = default if inviter.expires is None else min(default, inviter.expires)
        return InviteRequest(
            group=self.group, accept_by=accept_by, accepts=self.accepts, spots=self.spots,
            depth=self.depth, access_expires=self.access_expires, access_for=self.access_for,
            removal=self.removal, deplete=self.deplete, redirect=self.redirect,
            confirm=self.confirm)


INVITE_FIELDS = frozenset(f.name for f in fields(InviteForm))

# Each parser returns its field's type (InviteForm), which a dict cannot express: Any.
_PARSERS: dict[str, Callable[[str, object, bool], Any]] = {
    "group": lambda n, v, j: group_path(n, v),
    "accept_by": instant,
    "accept_for": duration,
    "accepts": lambda n, v, j: count(n, v, j, least=1),
    "spots": count,
    "depth": count,
    "access_expires": instant,
    "access_for": duration,
    "removal": lambda n, v, j: removal(n, v),
    "deplete": flag,
    "redirect": lambda n, v, j: text(n, v),
    "confirm": flag,
}
_OPTIONAL_WHEN_NULL = frozenset(
    {"accept_by", "accept_for", "access_expires", "access_for", "deplete", "redirect"})


def parse_invite(body: Body, check_redirect: Callable[[str], str | None]) -> InviteForm:
    """The :class:`InviteForm` of ``body``; ``check_redirect`` is the allowlist (None: refused)."""
    given = {name: value for name, value in body.values.items()
             if not (body.json and value is None and name in _OPTIONAL_WHEN_NULL)}
    if "group" not in given:
        raise FieldError("group", "is required")
    for first, second in (("accept_by", "accept_for"), ("access_expires", "access_for")):
        if first in given and second in given:
            raise FieldError(second, f"give {first} or {second}, not both")
    parsed = {name: _PARSERS[name](name, value, body.json) for name, value in given.items()}
    if "redirect" in parsed and check_redirect(parsed["redirect"]) is None:
        raise FieldError("redirect", "is not an allowed destination (this service or an "
                                     "allowed client origin)")
    return InviteForm(**parsed)
