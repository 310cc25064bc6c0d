"""The original README's aiohttp middleware runs as written (examples/aiohttp_app.py), on a real
aiohttp server on 127.0.0.1, against the login service's run dir."""

from __future__ import annotations

import asyncio
import importlib.util
import sys

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from tests.support.servers import ROOT

# The original snippet stores the user under a string key, as aiohttp allowed then; aiohttp
# now recommends web.RequestKey and warns (warnings are errors in this suite).
pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")


@pytest.fixture
def example(run_dir, service, monkeypatch):
    """A fresh import of the example, reading the service's run dir."""
    monkeypatch.setenv("LOGIN_RUN_DIR", str(run_dir))
    monkeypatch.setenv("LOGIN_DEBUG", "1")
    spec = importlib.util.spec_from_file_location("aiohttp_app", ROOT / "examples/aiohttp_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("aiohttp_app", None)


def get(app, *cookies: str | None) -> list[tuple[int, str, str | None]]:
    """GET / once per cookie on one real server: (status, body, the login Set-Cookie value)."""
    async def one(session, url, cookie):
        headers = {"Cookie": f"login={cookie}"} if cookie is not None else {}
        async with session.get(url, headers=headers) as response:
            morsel = response.cookies.get("login")
            return response.status, await response.text(), morsel.value if morsel else None

    async def run():
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            async with ClientSession() as session:
                return [await one(session, server.make_url("/"), c) for c in cookies]
        finally:
            await server.close()

    return asyncio.run(run())


def test_a_logged_in_request_gets_the_user(example, login):
    [(status, body, cookie)] = get(example.app, login("alice"))
    assert status == 200 and body.startswith("Hello, {") and "'name': 'alice'" in body
    assert cookie is None, "a valid lease is not set again"


def test_logged_out_and_bad_cookies_get_none_and_a_bad_one_is_cleared(example):
    logged_out, garbage = get(example.app, None, "garbage")
    assert logged_out[:2] == (200, "Hello, None")
    assert garbage == (200, "Hello, None", "")


def test_an_ended_session_is_refused(example, login, service_client, interface):
    token = login("bob")
    csrf = service_client.get("/login/sessions").json["csrf_token"]
    service_client.post("/login/logout", headers={"X-CSRF-Token": csrf})
    example.login.sync_revocations()  # another process: within its poll interval otherwise
    assert get(example.app, token)[0][1] == "Hello, None"


def test_group_checks_through_the_same_call(example, login, interface):
    from flask_modular_login import AccessNamespace

    token = login("127.0.0.1")
    group = AccessNamespace("aio", ownership_method="test", owner_id="127.0.0.1")

    class Request(dict):
        cookies = {"login": token}
        remote = "127.0.0.1"

    owner = asyncio.run(example.login(Request(), group=group / "room"))
    assert owner is not None and owner["name"] == "127.0.0.1"
    other = login("mallory")
    Request.cookies = {"login": other}
    assert asyncio.run(example.login(Request(), group=group / "room")) is None
