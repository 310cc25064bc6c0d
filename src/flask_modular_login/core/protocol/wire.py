"""Strict JSON for the channel: one UTF-8 JSON object per message, at most 64 KiB.

:func:`loads` accepts exactly what docs/protocol.md allows and raises a
:class:`~.errors.ProtocolError` for anything else; :func:`dumps` writes the one
spelling we send. The field readers (:func:`integer`, :func:`text`, ...) check
one value each and raise :class:`~.errors.BadField` naming the field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import BadField, Malformed, TooLarge

MAX_MESSAGE_BYTES = 65536
"""The largest message, in UTF-8 bytes, either side sends or accepts."""

MAX_JSON_DEPTH = 40
"""How deeply arrays and objects may nest (an expression may nest 32 deep)."""

SAFE_INTEGER = 2**53 - 1
"""The largest integer any field holds: exact in every JSON implementation."""

T = TypeVar("T")
Reader = Callable[[object, str], Any]


def loads(data: str | bytes) -> dict[str, Any]:
    """The JSON object in one message; raises Malformed or TooLarge."""
    text = _text(data)
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys,
                           parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise Malformed("JSON nested too deeply") from None
    except ValueError as error:
        raise Malformed(f"not JSON: {str(error)[:80]}") from None
    if not isinstance(value, dict):
        raise Malformed(f"a message is a JSON object, not {_kind(value)}")
    _check_tree(value)
    return value


def dumps(value: dict[str, Any]) -> str:
    """The compact spelling of ``value``; raises TooLarge over :data:`MAX_MESSAGE_BYTES`."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    size = len(text.encode("utf-8"))
    if size > MAX_MESSAGE_BYTES:
        raise TooLarge(f"message of {size} bytes exceeds {MAX_MESSAGE_BYTES}")
    return text


def _text(data: object) -> str:
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        _size(len(raw))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("message is not UTF-8") from None
    if not isinstance(data, str):
        raise Malformed(f"message is {type(data).__name__}, not text")
    _size(len(data))
    try:
        _size(len(data.encode("utf-8")))
    except UnicodeEncodeError:
        raise Malformed("message is not UTF-8 (lone surrogate)") from None
    return data


def _size(size: int) -> None:
    if size > MAX_MESSAGE_BYTES:
        raise TooLarge(f"message of {size} bytes exceeds {MAX_MESSAGE_BYTES}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise Malformed(f"duplicate key {key[:40]!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> float:
    raise Malformed(f"{name} is not JSON")


def _finite(spelling: str) -> float:
    value = float(spelling)
    if not math.isfinite(value):
        raise Malformed("number out of range")
    return value


def _check_tree(root: object) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH and strings that are not valid Unicode."""
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _unicode(value)
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise Malformed(f"JSON nested deeper than {MAX_JSON_DEPTH}")
        items = list(value.items()) if isinstance(value, dict) else [(None, v) for v in value]
        for key, item in items:
            if key is not None:
                _unicode(key)
            stack.append((item, depth + 1))


def _unicode(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Malformed("string is not valid Unicode (lone surrogate)") from None


def _kind(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


# ---------------------------------------------------------------- field readers


def integer(value: object, name: str, low: int = 0, high: int = SAFE_INTEGER) -> int:
    """An integer in ``[low, high]`` (JSON ``1.0`` and ``true`` are refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadField(f"{name} must be an integer, not {_kind(value)}")
    if not low <= value <= high:
        raise BadField(f"{name} must be between {low} and {high}")
    return value


def number(value: object, name: str, low: float = 0.0, high: float = SAFE_INTEGER) -> float:
    """A finite number in ``[low, high]``, integer or not."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadField(f"{name} must be a number, not {_kind(value)}")
    if not low <= value <= high:
        raise BadField(f"{name} must be between {low:g} and {high:g}")
    return value


def boolean(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise BadField(f"{name} must be true or false, not {_kind(value)}")
    return value


def text(value: object, name: str, most: int, pattern: re.Pattern[str] | None = None) -> str:
    """A non-empty string of at most ``most`` characters (matching ``pattern`` if given)."""
    if not isinstance(value, str):
        raise BadField(f"{name} must be a string, not {_kind(value)}")
    if not 0 < len(value) <= most:
        raise BadField(f"{name} must have 1 to {most} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise BadField(f"{name} is not of the form {pattern.pattern}")
    return value


_HEX = re.compile(r"(?:[0-9a-f]{2})+", re.ASCII)


def hex_bytes(value: object, name: str, least: int, most: int) -> bytes:
    """Lowercase hex of ``least`` to ``most`` bytes, decoded."""
    spelled = text(value, name, 2 * most, _HEX)
    if len(spelled) < 2 * least:
        raise BadField(f"{name} must hold at least {least} bytes")
    return bytes.fromhex(spelled)


def obj(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadField(f"{name} must be an object, not {_kind(value)}")
    return value


def array(value: object, name: str, most: int) -> list[Any]:
    if not isinstance(value, list):
        raise BadField(f"{name} must be an array, not {_kind(value)}")
    if len(value) > most:
        raise BadField(f"{name} holds more than {most} items")
    return value


def nullable(read: Reader) -> Reader:
    """``read``, or None for JSON null."""
    return lambda value, name: None if value is None else read(value, name)


def fields(body: dict[str, Any], required: tuple[str, ...], where: str,
           optional: tuple[str, ...] = ()) -> None:
    """Refuse a missing required field or any field not named."""
    for name in body:
        if name not in required and name not in optional:
            raise BadField(f"unknown field {name[:40]!r} in {where}")
    for name in required:
        if name not in body:
            raise BadField(f"missing field {name!r} in {where}")
