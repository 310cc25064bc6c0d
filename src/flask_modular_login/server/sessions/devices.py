"""A session's device in words ("Firefox on Windows"), from its User-Agent header.

Parsed by ``ua-parser`` (its rules, not ours). Unknown or missing agents read
"Unknown browser"; a program that is no browser keeps its own name
("Python Requests").
"""

from __future__ import annotations

import functools

from ua_parser import parse

UNKNOWN = "Unknown browser"


@functools.lru_cache(maxsize=1024)
def describe(user_agent: str | None) -> str:
    """``"<browser> on <system>"``, ``"<browser>"``, or :data:`UNKNOWN`."""
    if not user_agent:
        return UNKNOWN
    result = parse(user_agent[:1000])
    browser = result.user_agent.family if result.user_agent else None
    system = result.os.family if result.os else None
    if browser in (None, "Other"):
        return UNKNOWN if system in (None, "Other") else f"{UNKNOWN} on {system}"
    if browser.startswith("Headless"):
        browser = browser[len("Headless"):] + " (headless)"
    return browser if system in (None, "Other") else f"{browser} on {system}"
