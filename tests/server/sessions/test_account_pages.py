"""The account pages: devices in words, one header menu marking the current page, asking
before ending a session or all others, times in UTC for scripts to localise, the switch of
account, logout's message, and the static files every page uses."""

from __future__ import annotations

import re

import pytest

from flask_modular_login.server.sessions.devices import describe
from tests.conftest import csrf_from

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


@pytest.mark.parametrize("agent, words", [
    (FIREFOX, "Firefox on Windows"), (IPHONE, "Mobile Safari on iOS"),
    (None, "Unknown browser"), ("", "Unknown browser"), ("x" * 5000, "Unknown browser")])
def test_devices_are_named_by_ua_parser(agent, words):
    assert describe(agent) == words


def test_sessions_page_names_devices_and_marks_this_one(service, service_client, login, clock):
    other = service.test_client()
    other.environ_base["HTTP_USER_AGENT"] = FIREFOX
    login("alice", client=other)
    clock.advance(120)
    login("alice")
    page = service_client.get("/login/view/sessions").text
    assert "Firefox on Windows" in page and "active 2 min ago · 127.0.0.1" in page
    assert page.count('class="tag here">This device') == 1
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" title="[^"]+ UTC">'
                     r'[^<]+ UTC</time>', page), "UTC without scripts; time.js localises"
    assert '<a href="/login/view/sessions" aria-current="page">Sessions</a>' in page
    for target in ("/login/access/view/groups", "/login/access/view/invite",
                   "/login/access/view/code", "/login/view/accounts"):
        assert f'href="{target}"' in page
    assert "<header" in page and "<nav" in page and "<main" in page


def test_ending_a_session_asks_first(service, service_client, login, interface):
    other = service.test_client()
    other.environ_base["HTTP_USER_AGENT"] = FIREFOX
    token = login("alice", client=other)
    login("alice")
    handle = next(s["handle"] for s in service_client.get("/login/sessions").json["sessions"]
                  if not s["current"])
    page = service_client.get("/login/view/sessions").text
    assert f'href="/login/view/sessions/end/{handle}"' in page
    ask = service_client.get(f"/login/view/sessions/end/{handle}")
    assert ask.status_code == 200 and "End the session on Firefox on Windows?" in ask.text
    session = interface.verifier.lease(token).session_id
    assert not interface.store.sessions.facts(session).revoked, "asking ends nothing"
    done = service_client.post("/login/sessions/end", data={
        "handle": handle, "csrf_token": csrf_from(ask.text)})
    assert done.status_code == 302 and interface.store.sessions.facts(session).revoked
    assert "Session ended" in service_client.get(done.location).text
    gone = service_client.get(f"/login/view/sessions/end/{handle}")
    assert gone.status_code == 404 and "<h1>" in gone.text


def test_ending_all_others_asks_first(service, service_client, login):
    login("alice", client=service.test_client())
    login("alice")
    ask = service_client.get("/login/view/sessions/end-others")
    assert ask.status_code == 200 and "End all other sessions?" in ask.text
    assert len(service_client.get("/login/sessions").json["sessions"]) == 2


def test_logged_out_confirmation_pages_go_to_login_and_come_back(service_client):
    answer = service_client.get("/login/view/sessions/end-others")
    assert answer.status_code == 302
    assert answer.location == "/login/?next=/login/view/sessions/end-others"


def test_logout_says_so_on_the_login_page(service_client, login):
    login("alice")
    page = service_client.get("/login/view/sessions").text
    out = service_client.post("/login/logout", data={"csrf_token": csrf_from(page)})
    assert out.status_code == 302
    assert "You are logged out." in service_client.get(out.location).text
    assert "You are logged out." not in service_client.get("/login/").text, "said once"


def test_switching_account_logs_out_first_and_comes_back(service_client, login):
    login("alice")
    page = service_client.get("/login/?next=/login/view/sessions&switch=1").text
    assert "Log in as someone else" in page and "Log out alice" in page
    assert 'name="next" value="/login/?next=/login/view/sessions"' in page
    assert service_client.get("/login/?next=/login/view/sessions").status_code == 302


def test_pages_load_only_our_own_files_under_a_strict_policy(service_client, login):
    login("alice")
    response = service_client.get("/login/view/sessions")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "<script>" not in response.text and " style=" not in response.text
    assets = re.findall(r'(?:src|href)="(/login/static/[^"]+)"', response.text)
    assert {a.rsplit("/", 1)[1] for a in assets} == {"favicon.svg", "login.css", "time.js"}
    for asset in assets:
        with service_client.get(asset) as served:
            assert served.status_code == 200 and served.data
    assert not re.search(r'(?:src|href)="(?:https?:)?//', response.text), "no external asset"
    assert service_client.get("/login/sessions").headers.get(
        "Content-Security-Policy") == "frame-ancestors 'none'", "JSON keeps its headers"
