"""Request hygiene: CSRF, cookie flags, bad input never a 500 (SECURITY.md lines 6, 7, 9)."""

from __future__ import annotations

import pytest

from flask_modular_login import create_app
from flask_modular_login.cookies import cookie_flags


def _post(client, path, **kwargs):
    return client.post(path, **kwargs)


@pytest.mark.parametrize("path", ["/login/logout", "/login/sessions/end",
                                  "/login/sessions/end-others", "/login/test/"])
def test_state_changes_without_csrf_token_are_refused(service_client, login, path, interface):
    token = login("alice")
    response = service_client.post(path, data={"handle": "0" * 12, "username": "mallory"})
    assert response.status_code == 400
    assert "reload the page" in response.text
    sid = interface.verifier.lease(token).session_id
    assert not interface.store.sessions.facts(sid).revoked


def test_wrong_csrf_token_and_cross_origin_posts_are_refused(service_client, login):
    login("alice")
    csrf = service_client.get("/login/sessions").json["csrf_token"]
    assert service_client.post("/login/logout", data={"csrf_token": csrf + "x"}).status_code == 400
    response = service_client.post("/login/logout", data={"csrf_token": csrf},
                                   headers={"Origin": "https://evil.com"})
    assert response.status_code == 400
    assert service_client.get("/login/sessions").status_code == 200, "still logged in"


def test_lease_cookie_flags(service_client, login):
    login("alice")
    client = service_client
    form = client.get("/login/test/")
    from tests.conftest import csrf_from

    response = client.post("/login/test/", data={"username": "bob",
                                                  "csrf_token": csrf_from(form.text)})
    cookies = response.headers.getlist("Set-Cookie")
    lease = next(c for c in cookies if c.startswith("login="))
    assert "HttpOnly" in lease and "SameSite=Lax" in lease and "Path=/" in lease
    assert "Secure" not in lease, "debug over plain http"
    assert "Domain=" not in lease, "host-only unless LOGIN_COOKIE_DOMAIN says otherwise"
    assert len(lease) < 4096 // 2
    state = [c for c in cookies if c.startswith("login_state=")]
    assert state, "the service's own session cookie is set at login"
    for cookie in state:
        assert "Path=/login" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Domain=" not in cookie


def test_cookies_are_secure_outside_debug(run_dir):
    app = create_app({"LOGIN_RUN_DIR": str(run_dir), "TESTING": True})
    client = app.test_client()
    response = client.get("/login/")
    assert response.status_code == 200
    with app.test_request_context():
        state = app.extensions["flask_modular_login"]
        assert cookie_flags(state.settings)["secure"] is True
        assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("kwargs", [
    {"data": "{broken", "content_type": "application/json"},
    {"json": {"handle": ["a"]}},
    {"json": {"handle": 7}},
    {"json": {"handle": "../../etc"}},
    {"json": {"handle": "é" * 12}},
    {"data": b"x" * (128 * 1024), "content_type": "application/octet-stream"},
    {"data": {"handle": "z" * 12}},
])
def test_bad_input_to_end_session_is_a_clear_4xx(service_client, login, kwargs, interface):
    token = login("alice")
    csrf = service_client.get("/login/sessions").json["csrf_token"]
    response = service_client.post("/login/sessions/end", headers={"X-CSRF-Token": csrf},
                                   **kwargs)
    assert 400 <= response.status_code < 500
    sid = interface.verifier.lease(token).session_id
    assert not interface.store.sessions.facts(sid).revoked


def test_unknown_routes_and_methods_answer_json_for_api_calls(service_client):
    response = service_client.get("/login/nope", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.json["error"] == "not_found"
    assert service_client.delete("/login/sessions").status_code == 405


def test_every_file_the_service_writes_in_run_is_private(service, run_dir, login):
    login("alice")  # a database with rows, keys, the Flask secret
    files = [path for path in run_dir.rglob("*") if path.is_file()]
    assert {"flask_secret", "users.db"} <= {path.name for path in files}
    assert {path.name: oct(path.stat().st_mode & 0o777) for path in files
            if path.stat().st_mode & 0o077} == {}
