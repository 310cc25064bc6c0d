"""Logging in with the test provider, the login page, logout (issue 2, items 1 and 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flask_modular_login import create_app
from tests.conftest import csrf_from


def test_logged_out_sessions_page_leads_to_a_test_login_and_back(service_client):
    response = service_client.get("/login/view/sessions")
    assert response.status_code == 302
    login_page = service_client.get(response.location)
    assert 'href="/login/test/?next=/login/view/sessions"' in login_page.text
    form = service_client.get("/login/test/?next=/login/view/sessions")
    assert 'value="127.0.0.1"' in form.text, "the username defaults to the visitor's IP"
    done = service_client.post("/login/test/", data={"username": "127.0.0.1",
                                                     "csrf_token": csrf_from(form.text)})
    assert done.status_code == 302 and done.location == "/login/view/sessions"
    page = service_client.get("/login/view/sessions")
    assert page.status_code == 200 and "Your sessions" in page.text


def test_login_page_json_twin_lists_providers(service_client):
    body = service_client.get("/login/", headers={"Accept": "application/json"}).json
    assert [p["name"] for p in body["providers"]] == ["test"]
    assert body["user"] is None


def test_unsafe_next_is_dropped_from_the_login_links(service_client):
    page = service_client.get("/login/?next=//evil.com/x")
    assert "evil" not in page.text
    service_client.get("/login/test/?next=https:evil.com")
    form = service_client.get("/login/test/")
    done = service_client.post("/login/test/", data={"username": "a",
                                                     "csrf_token": csrf_from(form.text)})
    assert done.location == "/login/view/sessions"


def test_allowed_client_origin_is_where_login_returns(service_client):
    service_client.get("/login/test/?next=http://127.0.0.1:8080/hidden")
    form = service_client.get("/login/test/?next=http://127.0.0.1:8080/hidden")
    done = service_client.post("/login/test/", data={"username": "a",
                                                     "csrf_token": csrf_from(form.text)})
    assert done.location == "http://127.0.0.1:8080/hidden"


def test_logged_in_user_with_next_goes_straight_there(service_client, login):
    login("alice")
    response = service_client.get("/login/?next=/login/view/sessions")
    assert response.status_code == 302 and response.location == "/login/view/sessions"


def test_every_login_makes_a_new_session_and_resets_service_state(service_client, login,
                                                                  interface):
    first = login("alice")
    old_csrf = service_client.get("/login/sessions").json["csrf_token"]
    second = login("alice")
    first_sid = interface.verifier.lease(first).session_id
    second_sid = interface.verifier.lease(second).session_id
    assert first_sid != second_sid
    assert service_client.get("/login/sessions").json["csrf_token"] != old_csrf
    facts = interface.store.sessions.facts(first_sid)
    assert facts.revoked, "the browser's previous session ended at the new login"


def test_session_ids_are_long_and_random(login, interface):
    ids = {interface.verifier.lease(login(f"user{i}")).session_id for i in range(5)}
    assert len(ids) == 5
    assert all(len(sid) >= 43 for sid in ids)  # 32 random bytes, base64url


def test_logout_is_post_only_revokes_and_clears_cookie(service_client, login, interface):
    token = login("alice")
    assert service_client.get("/login/logout").status_code == 405
    csrf = service_client.get("/login/sessions").json["csrf_token"]
    response = service_client.post("/login/logout", data={"csrf_token": csrf})
    assert response.status_code == 302
    assert service_client.get_cookie("login") is None
    assert interface.store.sessions.facts(interface.verifier.lease(token).session_id).revoked


def test_test_provider_is_404_outside_debug(run_dir: Path):
    app = create_app({"LOGIN_RUN_DIR": str(run_dir), "TESTING": True})
    client = app.test_client()
    assert client.get("/login/test/").status_code == 404
    assert client.post("/login/test/", data={"username": "x"}).status_code in (400, 404)
    assert "test" not in client.get("/login/providers").json["providers"]


@pytest.mark.parametrize("username", ["", " ", "x" * 65, "a\x00b", "line\nbreak"])
def test_bad_usernames_are_refused_without_a_session(service_client, username, interface):
    form = service_client.get("/login/test/")
    response = service_client.post("/login/test/", data={"username": username,
                                                         "csrf_token": csrf_from(form.text)})
    assert response.status_code == 400
    assert service_client.get_cookie("login") is None


def test_jwks_serves_the_public_keys_only(service_client, run_dir):
    keys = service_client.get("/login/.well-known/jwks.json").json["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "OKP" and "d" not in keys[0]
