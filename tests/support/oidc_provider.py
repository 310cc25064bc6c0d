"""A real OpenID Connect provider for tests: ``tests/support/oidc/server.js`` (oidc-provider).

:func:`running_oidc_provider` starts it on a free 127.0.0.1 port, waits until
its discovery document answers, yields an :class:`OIDCTestProvider` and stops
it. The ``oidc_provider`` fixture wraps that for a test session. When node or
the npm package is missing the tests are skipped, except with ``CI`` set,
where they fail (``cd tests/support/oidc && npm ci`` installs the package).

:func:`authorize` drives the provider's development login and consent forms
with ``requests``, as a browser would, and returns the URL the provider sends
the browser back to, without following it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

FOLDER = Path(__file__).resolve().parent / "oidc"
START_TIMEOUT = 20.0
REDIRECT_URI = "http://127.0.0.1:5999/login/oidc/test/authorized"
"""Registered with the provider; nothing listens there (tests catch the redirect)."""


@dataclass(frozen=True)
class OIDCTestProvider:
    """A running provider and the one client registered with it."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...]

    @property
    def redirect_uri(self) -> str:
        return self.redirect_uris[0]


def unavailable(reason: str) -> None:
    """Skip, or fail when ``CI`` is set (a missing provider must not pass unseen)."""
    if os.environ.get("CI"):
        pytest.fail(f"OIDC test provider unavailable in CI: {reason}")
    pytest.skip(f"OIDC test provider unavailable: {reason}")


def node_command() -> list[str]:
    """``node server.js 0``, or skip/fail if node or oidc-provider is missing."""
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed")
    if not (FOLDER / "node_modules" / "oidc-provider" / "package.json").is_file():
        unavailable(f"run `npm ci` in {FOLDER}")
    return [str(node), str(FOLDER / "server.js"), "0"]


@contextmanager
def running_oidc_provider(
    redirect_uris: tuple[str, ...] = (REDIRECT_URI,),
    client_id: str = "flask-modular-login-test",
    client_secret: str | None = None,
) -> Iterator[OIDCTestProvider]:
    """Start the provider with one client, yield it once discovery answers, stop it."""
    secret = client_secret or secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": secret,
        "OIDC_REDIRECT_URIS": " ".join(redirect_uris),
    }
    command = node_command()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=FOLDER, env=env, stdout=out, stderr=err)
        try:
            issuer = wait_until_ready(process, out, err)
            yield OIDCTestProvider(issuer, client_id, secret, tuple(redirect_uris))
        finally:
            stop(process)


def wait_until_ready(process: subprocess.Popen[bytes], out: object, err: object) -> str:
    """The issuer the server printed, once its discovery document answers."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"OIDC test provider exited ({process.returncode}): {tail(err)}")
        issuer = printed_issuer(out)
        if issuer and discovery_answers(issuer):
            return issuer
        time.sleep(0.05)
    pytest.fail(f"OIDC test provider did not start in {START_TIMEOUT}s: {tail(err)}")


def printed_issuer(out: object) -> str | None:
    """The ``issuer`` of the first stdout line, once it is complete."""
    out.seek(0)  # type: ignore[attr-defined]
    line = out.readline()  # type: ignore[attr-defined]
    if not line.endswith(b"\n"):
        return None
    return json.loads(line)["issuer"]


def discovery_answers(issuer: str) -> bool:
    try:
        url = f"{issuer}/.well-known/openid-configuration"
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def tail(stream: object) -> str:
    stream.seek(0)  # type: ignore[attr-defined]
    return stream.read().decode(errors="replace")[-2000:]  # type: ignore[attr-defined]


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 5 seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OIDCTestProvider]:
    """A running oidc-provider for the whole test session."""
    with running_oidc_provider() as provider:
        yield provider


# ---------------------------------------------------------------- driving the dev forms


class FormParser(HTMLParser):
    """Collects the first ``<form>`` of a page: its action and its inputs' defaults."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
            self.inside = True
        elif tag == "input" and self.inside and "name" in values:
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def parse_form(html: str) -> tuple[str, dict[str, str]]:
    """``(action, fields)`` of the page's first form; fails the test if there is none."""
    parser = FormParser()
    parser.feed(html)
    if parser.action is None:
        pytest.fail(f"expected a form, got: {html[:500]}")
    return parser.action, parser.fields


def authorize(
    http: requests.Session,
    url: str,
    *,
    login: str,
    stop_at: str,
    password: str = "any",  # noqa: S107 (the dev form accepts any password)
    max_steps: int = 12,
) -> str:
    """Follow ``url`` through the dev login and consent forms; the URL under ``stop_at``.

    Redirects are followed by hand; a page with a form is submitted (the login
    form with ``login`` and ``password``). The first redirect to a URL starting
    with ``stop_at`` (the client's redirect URI) is returned, not followed.
    """
    method, data = "GET", None
    for _ in range(max_steps):
        response = http.request(method, url, data=data, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            if url.startswith(stop_at):
                return url
            method, data = "GET", None
            continue
        if response.status_code != 200:
            pytest.fail(f"{method} {url}: HTTP {response.status_code}: {response.text[:500]}")
        action, fields = parse_form(response.text)
        if fields.get("prompt") == "login":
            fields.update(login=login, password=password)
        method, url, data = "POST", urljoin(url, action), fields
    pytest.fail(f"no redirect to {stop_at} after {max_steps} steps")
