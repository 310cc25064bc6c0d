"""Every answer of the login service may not be framed or sniffed, and is never kept by a
cache, except the public key set (walks the URL map, so a new route cannot escape)."""

from __future__ import annotations

import flask
import pytest

from flask_modular_login import LoginBlueprint
from tests.conftest import csrf_from
from tests.support.routes import every_request

JSON = {"Accept": "application/json"}
SAMPLE_VALUES = {"code": "x" * 32, "filename": "nope.css"}
CACHEABLE = {"login.jwks"}  # the public keys: a cache may keep them for a minute


def security_problems(response) -> list[str]:
    """What the answer lacks of the headers every answer of the service carries."""
    problems = []
    if response.headers.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options={response.headers.get('X-Frame-Options')}")
    policies = response.headers.getlist("Content-Security-Policy")
    if not any("frame-ancestors 'none'" in policy for policy in policies):
        problems.append(f"Content-Security-Policy={policies}")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"X-Content-Type-Options={response.headers.get('X-Content-Type-Options')}")
    if response.headers.get("Referrer-Policy") != "strict-origin":  # no invite code in Referer
        problems.append(f"Referrer-Policy={response.headers.get('Referrer-Policy')}")
    return problems


def cache_problems(response, cacheable: bool = False) -> list[str]:
    control = response.headers.get("Cache-Control", "")
    if cacheable:
        ok = "no-store" not in control and "max-age=" in control and "private" not in control
    else:
        ok = "no-store" in control
    return [] if ok else [f"Cache-Control={control!r}"]


def browser(service, login, logged_in: bool):
    client = service.test_client()
    if logged_in:
        login("alice", client=client)
    return client, csrf_from(client.get("/login/test/").text)


@pytest.mark.parametrize("logged_in", [True, False], ids=["logged_in", "logged_out"])
def test_every_route_answers_unframeable_unsniffable_and_uncached(service, login, logged_in):
    requests = list(every_request(service, SAMPLE_VALUES))
    endpoints = {endpoint for _method, _url, endpoint in requests}
    assert {"login.sessions_page", "login.accept_page", "login.jwks", "index"} <= endpoints
    problems = {}
    for method, url, endpoint in requests:
        for headers in ({}, JSON):
            client, csrf = browser(service, login, logged_in)  # a POST may log out: fresh each
            response = client.open(url, method=method, headers={**headers, "X-CSRF-Token": csrf})
            found = security_problems(response) + cache_problems(
                response, cacheable=endpoint in CACHEABLE and response.status_code == 200)
            if found:
                problems[f"{method} {url} {headers} -> {response.status_code}"] = found
    assert problems == {}


@pytest.mark.parametrize("method, url, status", [
    ("GET", "/login/nope", 404),
    ("GET", "/nope", 404),
    ("DELETE", "/login/sessions", 405),
    ("POST", "/login/logout", 400),  # no CSRF token
    ("POST", "/login/sessions/end", 413),  # too large
])
@pytest.mark.parametrize("headers", [{}, JSON], ids=["page", "json"])
def test_error_answers_carry_the_headers_too(service_client, login, method, url, status,
                                             headers):
    login("alice")
    body = b"x" * (128 * 1024) if status == 413 else None
    response = service_client.open(url, method=method, headers=headers, data=body)
    assert response.status_code == status
    assert security_problems(response) + cache_problems(response) == []


def test_the_public_keys_may_be_cached_briefly(service_client):
    response = service_client.get("/login/.well-known/jwks.json")
    assert response.status_code == 200 and response.json["keys"]
    assert security_problems(response) == []
    assert response.cache_control.max_age == 60 and not response.cache_control.no_store


def test_a_richer_policy_of_a_view_keeps_its_directives(service):
    @service.get("/login/with-policy")
    def with_policy():
        response = flask.make_response("x")
        response.headers["Content-Security-Policy"] = \
            "default-src 'self'; frame-ancestors https://framer.example"
        return response

    response = service.test_client().get("/login/with-policy")
    assert response.headers.getlist("Content-Security-Policy") == [
        "default-src 'self'; frame-ancestors 'none'"]


def test_mounted_on_a_host_app_only_the_service_is_covered(run_dir, clock):
    app = flask.Flask("host")
    app.config.update(LOGIN_RUN_DIR=str(run_dir), LOGIN_DEBUG=True, SECRET_KEY="s",
                      TESTING=True)
    LoginBlueprint(app, clock=clock)

    @app.get("/host")
    def host():
        response = flask.make_response("host page")
        response.cache_control.max_age = 600
        return response

    client = app.test_client()
    for url in ("/login/", "/login/sessions", "/login/nope"):
        response = client.get(url, headers=JSON)
        assert security_problems(response) + cache_problems(response) == [], url
    host_page = client.get("/host")
    assert host_page.headers["Cache-Control"] == "max-age=600"
    assert "X-Frame-Options" not in host_page.headers


def test_every_answer_names_the_api_version_and_another_version_is_refused(service, login):
    client = service.test_client()
    login("alice", client=client)
    csrf = client.get("/login/sessions").json["csrf_token"]
    assert client.get("/login/sessions").headers["X-API-Version"] == "1"
    assert client.get("/login/sessions", headers={"X-API-Version": "1"}).status_code == 200
    refused = client.post("/login/sessions/end-others", headers={
        "X-API-Version": "2", "X-CSRF-Token": csrf, "Accept": "application/json"})
    assert refused.status_code == 400
    assert refused.json["error"] == "unsupported_version" and refused.json["supported"] == [1]
    assert "version 1" in refused.json["message"]
    page = client.get("/login/view/sessions", headers={"X-API-Version": "banana"})
    assert page.status_code == 400 and "version 1" in page.text
