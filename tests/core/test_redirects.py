"""Which ``next`` targets are allowed after login (SECURITY.md line 8)."""

from __future__ import annotations

import pytest

from flask_modular_login.core.redirects import safe_next

OWN = "http://localhost:8000/"
ALLOWED = ("http://127.0.0.1:*", "https://app.example.com")


@pytest.mark.parametrize("target", [
    "/login/view/sessions",
    "/x?y=1#z",
    "http://localhost:8000/anything",
    "http://127.0.0.1:8080/hidden?a=b",
    "http://127.0.0.1/",
    "https://app.example.com/page",
    "https://APP.example.com:443/page",
    "/login/./view/sessions",
    "/login/access/../view/sessions?x=//y",
    "/../login/view/sessions",
])
def test_allowed_targets(target):
    assert safe_next(target, OWN, ALLOWED) == target


@pytest.mark.parametrize("target", [
    "//evil.com", "//evil.com/path", "/\\evil.com", "\\\\evil.com", "https:evil.com",
    "https:/evil.com", "http:\\\\evil.com", "https://evil.com", "http://localhost:8001/",
    "%2F%2Fevil.com", "/%2F%2Fevil.com", "/%5Cevil.com", "/%255Cevil.com", "%252F%252Fevil.com",
    "http://localhost:8000@evil.com/", "http://evil.com#@localhost:8000",
    "javascript:alert(1)", "data:text/html,hi", "ftp://localhost:8000/",
    "https://app.example.com.evil.com/", "http://app.example.com/",
    "/path\nLocation: http://evil.com", " /lead", "/tab\there", "\x00/", "",
    "evil.com", "http://127.0.0.1:80x/", "http://[::1/", "/" + "a" * 3000, None, 42,
    "／／evil.com", "http://127.0.0.1.evil.com:8080/",
])
def test_refused_targets(target):
    assert safe_next(target, OWN, ALLOWED) is None


@pytest.mark.parametrize("target", [
    "/.//evil.com", "/login/../..//evil.com", "/a/..//evil.com", "/././/evil.com/x?y=1",
    "/%2e//evil.com", "/%2E%2e//evil.com", "/x/.%2E/%2e.//evil.com", "/%252e//evil.com",
    "/.%2F/evil.com", "/.%252F/evil.com", "/./%2Fevil.com", "/login/..%2F..%2F%2Fevil.com",
    "/.\\/evil.com", "/.%5C/evil.com", "/..//evil.com#frag", "/.//",
])
def test_dot_segments_that_leave_for_another_host_are_refused(target):
    """Browsers resolve ``.`` and ``..`` (also as ``%2e``) before following a path: what
    normalises to ``//host`` is a scheme-relative URL to another host."""
    assert safe_next(target, OWN, ALLOWED) is None
