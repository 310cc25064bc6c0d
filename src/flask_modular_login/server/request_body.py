"""The one place where the login service reads a request body.

:func:`fields` returns the body as a dict, or raises :class:`FieldError` (400)
with a message naming what is wrong; views never call ``request.get_json``,
``request.form`` or ``request.get_data`` themselves. A body is

* a JSON object (``application/json`` or ``application/*+json``) in UTF-8: not a
  list, number, string or null, no key twice, and not nested deeper than Python's
  parser goes (a ``RecursionError`` is a refusal, never a 500);
* a form (``application/x-www-form-urlencoded``) in UTF-8: raw bytes and
  percent-escapes must decode, each field given once;
* or empty (``{}``), whatever its content type.

Anything else (multipart, text, more than :data:`MAX_BYTES`) is refused. The
login blueprint reads the body of every POST in a ``before_request`` hook
(:func:`check`, before the CSRF check), so a bad body is refused before any view
runs and a refused request changes nothing, on every route, new ones included.
The result is kept for the request: the hook, the CSRF check (:mod:`.csrf`) and
the view parse the body once.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import flask
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

MAX_BYTES = 64 * 1024
MAX_FIELDS = 100
FORM = "application/x-www-form-urlencoded"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CACHE = "_flask_modular_login_body"


class FieldError(BadRequest):
    """The body, or one of its fields, is missing, malformed, of the wrong type or out of
    range: 400 ``bad_request``, with the field named (``body`` for the body as a whole).
    ``code`` is the HTTP status; ``error`` the stable name (:func:`.errors.http_error`)."""

    error = "bad_request"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def fields() -> dict[str, Any]:
    """The request body as a dict (a copy: callers may change it); :class:`FieldError` if
    it is not a JSON object, not a UTF-8 form, or neither."""
    g = flask.g._get_current_object()
    cached = g.__dict__.get(_CACHE)
    if cached is None:
        try:
            cached = _parse(flask.request)
        except HTTPException as error:  # 400, or 413 for a body too large
            cached = error
        g.__dict__[_CACHE] = cached
    if isinstance(cached, HTTPException):
        raise cached
    return dict(cached)


def check() -> None:
    """``before_request`` hook: read the body of every unsafe request before its view runs,
    so a bad body is refused (400) even by views that need no field, and before any write."""
    if flask.request.method in UNSAFE_METHODS:
        fields()


def required_text(name: str) -> str:
    """Text field ``name`` of the body (form or JSON object), or 400 ``{name} is required``."""
    value = fields().get(name)
    if not isinstance(value, str):
        raise BadRequest(f"{name} is required")
    return value


def form_field(name: str) -> Any:
    """Field ``name`` of a form body (None for a JSON body, where only headers carry tokens)."""
    if flask.request.is_json:
        return None
    return fields().get(name)


def _parse(request: flask.Request) -> dict[str, Any]:
    length = request.content_length
    if length is not None and length > MAX_BYTES:
        raise RequestEntityTooLarge()
    data = request.get_data(cache=True, parse_form_data=False)
    if len(data) > MAX_BYTES:
        raise RequestEntityTooLarge()
    if request.is_json:
        return _json_object(data)
    if not data.strip():
        return {}
    if request.mimetype == FORM:
        return _form(data)
    raise FieldError("body", f"send a form ({FORM}) or a JSON object (application/json)")


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FieldError("body", "is not UTF-8") from None
    if not text.strip():
        return {}
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as error:
        raise FieldError("body", f"is not valid JSON ({_reason(error)})") from None
    if not isinstance(value, dict):
        raise FieldError("body", "must be a JSON object")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise FieldError(key[:40], "give it once")
        found[key] = value
    return found


def _reason(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "nested too deep"
    return str(error).split(":")[0] if str(error) else type(error).__name__


def _form(data: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(data.decode("utf-8"), keep_blank_values=True, encoding="utf-8",
                          errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise FieldError("body", "is not UTF-8 (a form field's bytes or percent-escapes "
                                 "do not decode)") from None
    except ValueError:
        raise FieldError("body", f"has more than {MAX_FIELDS} fields") from None
    return _unique_keys(pairs)
