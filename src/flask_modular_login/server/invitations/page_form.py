"""The invite form of the page: presets, one control for when access ends, and errors in
words next to their field.

The page posts plain words: ``preset`` (:data:`PRESETS`) instead of ``spots``,
``depth`` and ``removal`` unless it is ``custom``, and ``ends`` (``mine``,
``after`` with ``ends_after`` seconds, ``on`` with the date ``ends_on``) instead of
``access_for``/``access_expires``. :func:`to_invite_body` turns them into the
fields :func:`.form.parse_invite` reads, so the page and the JSON twin share one
parser and one set of rules. The fields of the JSON twin are accepted too.
:func:`field_errors` says what went wrong, per control of the form.
"""

from __future__ import annotations

import re
from typing import Any

from ...core.errors import LoginError
from ...core.groups import GroupPath
from ...core.invitations import Grant
from ..request_body import FieldError
from .form import Body, removal_name

PAGE_FIELDS = frozenset({"preset", "ends", "ends_after", "ends_on"})
PRESETS = ("member", "inviter", "manager", "custom")
INVITER_SPOTS = 5
"""How many people someone invited with the "Can invite others" preset may let in."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
SLOTS = {"group": "group", "accepts": "accepts", "spots": "preset", "depth": "preset",
         "removal": "preset", "access_for": "ends", "access_expires": "ends",
         "ends_after": "ends", "ends_on": "ends", "ends": "ends", "preset": "preset",
         "accept_for": "accept_for", "accept_by": "accept_for", "expires": "accept_for",
         "redirect": "redirect", "deplete": "advanced", "confirm": "advanced"}
"""The control of the page where each field's error is shown."""


def ruling_grant(held: list[Any], group: GroupPath) -> Grant | None:
    """The grant of the deepest membership in ``held`` at or above ``group``."""
    covering = [m for m in held if m.group.contains(group)]
    return max(covering, key=lambda m: len(m.group.parts)).grant if covering else None


def preset_fields(preset: str, ruling: Grant | None) -> dict[str, str]:
    """``spots``, ``depth`` and ``removal`` of a preset, as form values, within ``ruling``."""
    if preset == "member" or ruling is None:
        return {"spots": "0", "depth": "0", "removal": "none"}
    if preset == "inviter":
        spots = INVITER_SPOTS if ruling.spots is None else min(INVITER_SPOTS, ruling.spots)
        return {"spots": str(spots), "depth": "1", "removal": "invited"
                if removal_name(ruling.removal) != "none" else "none"}
    return {"spots": "unlimited" if ruling.spots is None else str(ruling.spots),
            "depth": "unlimited" if ruling.depth is None else str(max(ruling.depth - 1, 0)),
            "removal": removal_name(ruling.removal)}


def to_invite_body(body: Body, ruling: Grant | None) -> Body:
    """The page's fields as :func:`.form.parse_invite` reads them."""
    values = {k: v for k, v in body.values.items() if k not in PAGE_FIELDS}
    preset = body.get("preset")
    if preset is not None:
        if preset not in PRESETS:
            raise FieldError("preset", "choose one of the kinds of access offered")
        if preset != "custom":
            values.update(preset_fields(preset, ruling))
    ends = body.get("ends")
    if ends == "after":
        values["access_for"] = _required(body, "ends_after", "choose how long access lasts")
    elif ends == "on":
        day = _required(body, "ends_on", "choose the day access ends")
        if not isinstance(day, str) or not _DATE.fullmatch(day):
            raise FieldError("ends_on", "give a date such as 2030-12-31")
        values["access_expires"] = f"{day}T23:59:59Z"
    elif ends not in (None, "mine"):
        raise FieldError("ends", "choose when access ends")
    return Body(values, json=False)


def _required(body: Body, name: str, message: str) -> Any:
    if body.get(name) is None:
        raise FieldError(name, message)
    return body.get(name)


def field_errors(error: LoginError | FieldError) -> dict[str, str]:
    """{control of the page: what is wrong, in words}."""
    field = getattr(error, "field", None) or "group"
    code = getattr(error, "code", None)
    limit = getattr(error, "limit", None)
    text = _words(code, field, limit) or _sentence(str(getattr(error, "description", None)
                                                       or error))
    return {SLOTS.get(field, "group"): text}


def _words(code: object, field: str, limit: object) -> str | None:
    if code == "exceeds_spots":
        have = "any number" if limit is None else str(limit)
        what = "people may use this invite" if field == "accepts" else "each may let in"
        return f"That is more places than you hold: you may let in {have} more, so fewer {what}."
    if code == "exceeds_depth":
        return ("Your own access cannot be passed on that far: choose a kind with less "
                "right to invite.")
    if code == "exceeds_removal":
        return "You cannot give stronger removal rights than your own."
    if code == "exceeds_expiry":
        return "That is later than your own access ends."
    if code == "outside_group":
        return "You may invite only to a group you hold, or one below it."
    return None


def _sentence(message: str) -> str:
    """``"spots: must be ..."`` as ``"Must be ..."``."""
    text = message.split(": ", 1)[1] if ": " in message else message
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
