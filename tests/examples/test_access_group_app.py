"""examples/access_group_app.py (the original README's ``test_group`` snippet) with the
pytest plugin's ``login_client``: no login service runs."""

from __future__ import annotations

import pytest

JSON = {"Accept": "application/json"}


@pytest.fixture
def app(load_example):
    return load_example("access_group_app").app


def test_logged_out_is_redirected_or_401(login_client, app):
    client = login_client(app)
    answer = client.get("/access_profile")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("//localhost:8000/login/")
    assert "next=" in answer.headers["Location"]
    assert client.get("/access_profile", headers=JSON).status_code == 401


def test_logged_in_without_the_group_is_403(login_client, app):
    client = login_client(app)
    client.login(user_id="u1", name="Ann", groups=["other_group"])
    assert client.get("/access_profile").status_code == 403


def test_a_member_sees_their_profile(login_client, app):
    client = login_client(app)
    client.login(user_id="u1", name="Ann", groups=["test_group"])
    answer = client.get("/access_profile")
    assert answer.status_code == 200
    assert "'id': 'u1'" in answer.text and "'name': 'Ann'" in answer.text   # str(user)


def test_the_owner_holds_the_group(login_client, app):
    # The fake models no owners: the owner "127.0.0.1" holds test_group as a membership.
    client = login_client(app)
    client.login(user_id="127.0.0.1", groups=["test_group"])
    assert "'name': '127.0.0.1'" in client.get("/access_profile").text


def test_a_subgroup_membership_does_not_open_the_root(login_client, app):
    # Access flows down the tree, never up: test_group/sub is not test_group.
    client = login_client(app)
    client.login(user_id="u1", groups=["test_group/sub"])
    assert client.get("/access_profile").status_code == 403


def test_revoking_the_membership_closes_the_route(login_client, app):
    client = login_client(app)
    client.login(user_id="u1", groups=["test_group"])
    assert client.get("/access_profile").status_code == 200
    client.revoke("test_group")
    assert client.get("/access_profile").status_code == 403
