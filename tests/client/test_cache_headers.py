"""A client app's answers that depend on the login cookie are ``private`` and ``Vary: Cookie``,
so no shared cache hands one user's page to another; an app's own Cache-Control is kept."""

from __future__ import annotations

import flask
import pytest

from flask_modular_login import AccessNamespace, LoginBuilder

GUARDED = ["/user_info/x", "/profile_api", "/hidden", "/private/page"]


def varies_on_cookie(response) -> bool:
    return "cookie" in {token.strip().lower()
                        for token in response.headers.get("Vary", "").split(",")}


@pytest.mark.parametrize("path", GUARDED)
@pytest.mark.parametrize("signed_in", [True, False], ids=["logged_in", "logged_out"])
@pytest.mark.parametrize("headers", [{}, {"Accept": "application/json"}], ids=["page", "json"])
def test_answers_of_guarded_routes_are_private_and_vary_on_the_cookie(client, login, path,
                                                                     signed_in, headers):
    if signed_in:
        client.set_cookie("login", login("alice"))
    response = client.get(path, headers=headers)
    assert response.status_code in (200, 302, 401)
    assert varies_on_cookie(response)
    assert response.headers["Cache-Control"] == "private"


def test_a_bad_cookie_and_a_refused_group_are_private_too(interface, login):
    app = flask.Flask("groups_app")
    login_required, _optional = LoginBuilder(interface=interface).decorators
    group = AccessNamespace("members_only", ownership_method="test", owner_id="olivia")

    @app.get("/members")
    @login_required(group=group)
    def members():
        return "secret"

    client = app.test_client()
    client.set_cookie("login", "garbage")
    bounced = client.get("/members")
    assert bounced.status_code == 302
    client.set_cookie("login", login("alice"))
    refused = client.get("/members")
    assert refused.status_code == 403
    for response in (bounced, refused):
        assert varies_on_cookie(response) and response.headers["Cache-Control"] == "private"


@pytest.fixture
def own_headers_app(interface) -> flask.Flask:
    app = flask.Flask("own_headers")
    login_required, login_optional = LoginBuilder(interface=interface).decorators

    @app.get("/own")
    @login_required
    def own():
        response = flask.make_response("mine")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Vary"] = "Accept-Encoding"
        return response

    @app.get("/greeting")
    @login_optional(kw="user")
    def greeting(user=None):
        response = flask.make_response("hello")
        response.cache_control.max_age = 30
        response.cache_control.private = True
        return response

    @app.get("/public")
    def public():
        return "same for everyone"

    return app


def test_an_apps_own_cache_control_and_vary_are_kept(own_headers_app, login):
    client = own_headers_app.test_client()
    client.set_cookie("login", login("alice"))
    own = client.get("/own")
    assert own.headers["Cache-Control"] == "no-store"
    assert own.headers["Vary"] == "Accept-Encoding, Cookie"
    greeting = client.get("/greeting")
    assert greeting.cache_control.max_age == 30 and greeting.cache_control.private
    assert varies_on_cookie(greeting)


def test_routes_without_login_are_left_alone(own_headers_app, login):
    client = own_headers_app.test_client()
    client.set_cookie("login", login("alice"))
    response = client.get("/public")
    assert "Vary" not in response.headers and "Cache-Control" not in response.headers
