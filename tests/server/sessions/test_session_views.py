"""The sessions page: list, end one, end all others; only one's own (SECURITY.md 1, 4, 10)."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_from


@pytest.fixture
def second_browser(service):
    return service.test_client()


def _csrf(client) -> str:
    return client.get("/login/sessions").json["csrf_token"]


def test_sessions_page_lists_device_ip_and_times_but_never_session_ids(
        service_client, second_browser, login, interface):
    tokens = [login("alice"), login("alice", client=second_browser)]
    page = service_client.get("/login/view/sessions", headers={"User-Agent": "Firefox/1"})
    listing = service_client.get("/login/sessions").json
    assert len(listing["sessions"]) == 2
    assert sum(s["current"] for s in listing["sessions"]) == 1
    for token in tokens:
        sid = interface.verifier.lease(token).session_id
        assert sid not in page.text and sid not in str(listing)
    assert {"handle", "device", "ip", "signed_in", "last_seen"} <= set(listing["sessions"][0])


def test_end_one_session_by_handle(service_client, second_browser, login, interface):
    login("alice")
    other = login("alice", client=second_browser)
    handle = next(s["handle"] for s in service_client.get("/login/sessions").json["sessions"]
                  if not s["current"])
    response = service_client.post("/login/sessions/end",
                                   data={"handle": handle, "csrf_token": _csrf(service_client)})
    assert response.status_code == 302
    assert interface.store.sessions.facts(interface.verifier.lease(other).session_id).revoked
    assert second_browser.get("/login/sessions").status_code == 401, "the other browser is out"
    assert service_client.get("/login/sessions").status_code == 200, "this one is still in"


def test_end_all_other_sessions(service, service_client, login):
    login("alice")
    others = [service.test_client() for _ in range(3)]
    for browser in others:
        login("alice", client=browser)
    response = service_client.post("/login/sessions/end-others",
                                   headers={"X-CSRF-Token": _csrf(service_client),
                                            "Accept": "application/json"})
    assert response.json["ended"] == 3
    assert [b.get("/login/sessions").status_code for b in others] == [401] * 3
    assert len(service_client.get("/login/sessions").json["sessions"]) == 1


def test_a_user_cannot_end_another_users_session(service_client, second_browser, login,
                                                 interface):
    victim = login("victim", client=second_browser)
    victim_handle = second_browser.get("/login/sessions").json["sessions"][0]["handle"]
    login("mallory")
    response = service_client.post("/login/sessions/end", json={"handle": victim_handle},
                                   headers={"X-CSRF-Token": _csrf(service_client)})
    assert response.status_code == 404
    assert not interface.store.sessions.facts(interface.verifier.lease(victim).session_id).revoked
    assert second_browser.get("/login/sessions").status_code == 200


def test_logged_out_json_twin_is_401(service_client):
    response = service_client.get("/login/sessions")
    assert response.status_code == 401 and response.json["error"] == "login_required"


def test_html_views_have_forms_with_csrf_tokens(service_client, login):
    login("alice")
    page = service_client.get("/login/view/sessions").text
    assert csrf_from(page) == _csrf(service_client)
    assert 'action="/login/logout"' in page and 'method="post"' in page
