"""GET never changes state: every GET route of the login service, as a page and as JSON,
logged in and logged out, leaves every row of every table as it was (walks the URL map,
so a new route cannot escape). The accept preview runs against a real invite."""

from __future__ import annotations

import pytest

from tests.support.access import CHAT, People, access_of, invite
from tests.support.routes import database, every_request

JSON = {"Accept": "application/json"}


@pytest.fixture
def code(service, login, clock) -> str:
    """A live invite of olivia's to ``chat``, which alice may redeem."""
    access_of(service).ensure_group(CHAT, int(clock.now), owner=("test", "olivia"))
    return invite(People(service, login)["olivia"], accepts=3)["code"]


@pytest.mark.parametrize("logged_in", [True, False], ids=["logged_in", "logged_out"])
def test_no_get_route_writes_anything(service, login, code, logged_in):
    client = service.test_client()
    if logged_in:
        login("alice", client=client)
    requests = list(every_request(service, {"code": code, "filename": "x.css"}, {"GET"}))
    endpoints = {endpoint for _method, _url, endpoint in requests}
    assert {"login.accept_page", "login.sessions_page", "login.login_page"} <= endpoints
    before = database(service)
    for _method, url, endpoint in requests:
        for headers in ({}, JSON):
            response = client.get(url, headers=headers)
            assert response.status_code < 500, (url, response.status_code)
            assert database(service) == before, f"GET {url} ({endpoint}) changed the database"
