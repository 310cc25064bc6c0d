"""The login service and a client app as two real processes on 127.0.0.1 (issue 2).

Walks: logged out -> redirect -> test login -> client sees the user -> a session
ended on the sessions page -> the client rejects that cookie within the bound.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urljoin

import pytest
import requests


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def browser_login(service: str, client: str, username: str) -> requests.Session:
    browser = requests.Session()
    bounce = browser.get(f"{client}/hidden", allow_redirects=False)
    assert bounce.status_code == 302
    login_url = "http:" + bounce.headers["Location"]
    assert login_url.startswith(f"{service}/login/?next=")
    page = browser.get(login_url)
    test_link = re.search(r'href="(/login/test/[^"]*)"', page.text).group(1)
    form = browser.get(urljoin(service, test_link.replace("&amp;", "&")))
    done = browser.post(f"{service}/login/test/", allow_redirects=False,
                        data={"username": username, "csrf_token": _csrf(form.text)})
    assert done.status_code == 302 and done.headers["Location"] == f"{client}/hidden"
    return browser


def test_login_across_two_processes_and_revocation_reaches_the_client(deployment):
    service, client = deployment
    first = browser_login(service, client, "alice")
    assert first.get(f"{client}/hidden").json() == {"hello": "alice"}
    user = first.get(f"{client}/user_info/full").json()
    assert user["name"] == "alice" and len(user["id"]) == 32

    second = browser_login(service, client, "alice")
    second_cookie = second.cookies.get("login")
    listing = first.get(f"{service}/login/sessions").json()
    other = next(s["handle"] for s in listing["sessions"] if not s["current"])
    ended = first.post(f"{service}/login/sessions/end", allow_redirects=False,
                       data={"handle": other, "csrf_token": listing["csrf_token"]})
    assert ended.status_code == 302

    rejected_after = _seconds_until_rejected(client, second_cookie)
    assert rejected_after < 1.5, "revocations reach local clients within the poll bound"
    assert first.get(f"{client}/hidden").json() == {"hello": "alice"}, "the other one stays in"


def test_logout_reaches_the_client(deployment):
    service, client = deployment
    browser = browser_login(service, client, "bob")
    cookie = browser.cookies.get("login")
    csrf = browser.get(f"{service}/login/sessions").json()["csrf_token"]
    assert browser.post(f"{service}/login/logout", data={"csrf_token": csrf}).ok
    assert _seconds_until_rejected(client, cookie) < 1.5


def test_api_requests_get_json_401_from_the_client(deployment):
    _, client = deployment
    response = requests.get(f"{client}/profile_api", headers={"Accept": "application/json"})
    assert response.json() == {"user": None}
    response = requests.get(f"{client}/user_info/x", headers={"Accept": "application/json"})
    assert response.status_code == 401


def _seconds_until_rejected(client: str, cookie: str) -> float:
    """Poll (bounded: at most 3 s) until the client refuses ``cookie``."""
    start = time.monotonic()
    while time.monotonic() - start < 3:
        response = requests.get(f"{client}/hidden", cookies={"login": cookie},
                                allow_redirects=False)
        if response.status_code == 302:
            assert "login=;" in response.headers.get("Set-Cookie", ""), "cookie cleared"
            return time.monotonic() - start
        time.sleep(0.05)
    pytest.fail("the client still accepts an ended session after 3 s")


def test_access_groups_across_processes(deployment):
    service, client = deployment
    owner = browser_login(service, client, "127.0.0.1")
    assert owner.get(f"{client}/access_profile").json()["name"] == "127.0.0.1"
    stranger = browser_login(service, client, "stranger")
    refused = stranger.get(f"{client}/access_profile", headers={"Accept": "application/json"})
    assert refused.status_code == 401 and refused.json()["error"] == "access_denied"
    assert stranger.get(f"{client}/access_profile").status_code == 403
