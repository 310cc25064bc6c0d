"""Which ``next`` targets a login may redirect to. Pure.

A target is safe when it is a path on the service's own origin (``/x``, never
``//x`` or ``/\\x``) or an absolute ``http(s)`` URL whose origin is the service's
own or matches an allowed origin (``scheme://host[:port]``; port ``*`` matches any
port). Anything else (other hosts, ``https:evil.com``, user info, backslashes,
control characters, encoded variants of those) is refused.

Paths are checked as browsers will resolve them: dot segments are removed first
(RFC 3986 ``remove_dot_segments``, with ``%2e`` counted as a dot and a backslash
as a slash, as browsers do), so ``/.//evil.com`` and ``/login/../..//evil.com``,
which resolve to ``//evil.com``, are refused too.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

MAX_LENGTH = 2048
_SCHEMES = ("http", "https")


def safe_next(target: object, own_origin: str, allowed: Iterable[str] = ()) -> str | None:
    """``target`` if it is safe to redirect to, else None."""
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return None
    if not all(_plain(variant) for variant in _decodings(target)):
        return None
    if target.startswith("/"):
        return target if _local_path(target) else None
    origin = _origin(target)
    if origin is None:
        return None
    if origin == _normal(own_origin) or any(_matches(origin, pattern) for pattern in allowed):
        return target
    return None


def _decodings(target: str) -> list[str]:
    """The target and what it percent-decodes to, up to three times."""
    variants = [target]
    for _ in range(3):
        decoded = unquote(variants[-1])
        if decoded == variants[-1]:
            break
        variants.append(decoded)
    return variants


def _plain(text: str) -> bool:
    """No backslash, whitespace or control character; relative forms stay single-slash,
    also once their dot segments are resolved."""
    if "\\" in text or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        return False
    if text.startswith("/") and not text.startswith("//"):
        text = remove_dot_segments(text.split("?", 1)[0].split("#", 1)[0])
    return not text.startswith("//") and not text.startswith("/\\")


def remove_dot_segments(path: str) -> str:
    """``path`` with ``.`` and ``..`` segments resolved (RFC 3986, section 5.2.4).

    As browsers do, ``%2e`` (any case) counts as a dot and a backslash as a slash.
    ``..`` never climbs above the root: ``/a/../..//b`` is ``//b``.
    """
    segments = path.replace("\\", "/").split("/")
    kept: list[str] = []
    last = len(segments) - 1
    for index, segment in enumerate(segments[1:], start=1):
        dots = segment.lower().replace("%2e", ".")
        if dots == "..":
            if kept:
                kept.pop()
        elif dots != ".":
            kept.append(segment)
            continue
        if index == last:
            kept.append("")
    return segments[0] + "/" + "/".join(kept) if len(segments) > 1 else path


def _local_path(target: str) -> bool:
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and parts.path.startswith("/")


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _SCHEMES or not parts.hostname or "@" in parts.netloc:
        return None
    if not url.lower().startswith(f"{parts.scheme}://"):
        return None
    return _join(parts.scheme, parts.hostname, port)


def _join(scheme: str, host: str, port: int | None) -> str:
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host.lower()}" + (f":{port}" if port and port != default else "")


def _normal(origin: str) -> str:
    return _origin(origin) or origin


def _matches(origin: str, pattern: str) -> bool:
    """``pattern`` is ``scheme://host[:port]`` with port ``*`` for any port."""
    if pattern.endswith(":*"):
        base = pattern[:-2].lower()
        return origin == base or origin.startswith(base + ":") and origin[len(base) + 1:].isdigit()
    return origin == _normal(pattern)
