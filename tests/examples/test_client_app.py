"""examples/client_app.py (the original README's walkthrough of login_required and
login_optional) with the pytest plugin's ``login_client``: no login service runs."""

from __future__ import annotations

import pytest

JSON = {"Accept": "application/json"}


@pytest.fixture
def app(load_example):
    return load_example("client_app").app


def test_logged_out_browsers_are_sent_to_the_login_page(login_client, app):
    client = login_client(app)
    for path in ("/hidden", "/user_info/full", "/private/", "/access_profile"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert "//localhost:8000/login/" in answer.headers["Location"]
        assert client.get(path, headers=JSON).status_code == 401, path


def test_login_optional_sees_none_when_logged_out(login_client, app):
    assert login_client(app).get("/profile_api").json == {"user": None}


def test_a_logged_in_user_reaches_every_login_required_route(login_client, app):
    client = login_client(app)
    client.login(user_id="u1", name="Ann")
    assert client.get("/user_info/full").json == {"kind": "full", "id": "u1", "name": "Ann"}
    assert client.get("/hidden").json == {"hello": "Ann"}                  # flask.g.user
    assert client.get("/private/").json["user"]["name"] == "Ann"           # the blueprint
    assert client.get("/profile_api").json["user"]["id"] == "u1"


def test_the_group_route_needs_test_group(login_client, app):
    client = login_client(app)
    client.login(user_id="u1", name="Ann")
    assert client.get("/access_profile").status_code == 403
    client.grant("test_group")
    assert client.get("/access_profile").json == {"id": "u1", "name": "Ann"}


def test_after_logout_the_routes_are_closed_again(login_client, app):
    client = login_client(app)
    client.login(user_id="u1")
    assert client.get("/hidden").status_code == 200
    client.logout()
    assert client.get("/hidden").status_code == 302
    assert client.get("/profile_api").json == {"user": None}
