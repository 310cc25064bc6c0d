"""The seed API of a client Flask app: login_required / login_optional (issue 2, item 3)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import flask
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flask_modular_login import LoginBuilder
from flask_modular_login import login_optional as default_optional
from flask_modular_login import login_required as default_required
from flask_modular_login.core import leases


@pytest.fixture
def logged_in(client, login):
    client.set_cookie("login", login("alice"))
    return client


def test_logged_out_browser_is_redirected_to_login_with_next(client):
    response = client.get("/user_info/x?a=1")
    assert response.status_code == 302
    location = urlsplit(response.location)
    assert (location.netloc, location.path) == ("login.example", "/login/")
    assert parse_qs(location.query)["next"] == ["http://localhost/user_info/x?a=1"]


@pytest.mark.parametrize("headers", [{"Accept": "application/json"},
                                     {"X-Requested-With": "XMLHttpRequest"}])
def test_api_requests_get_401_json_instead_of_a_redirect(client, headers):
    response = client.get("/user_info/x", headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == "login_required"
    assert response.json["login"].startswith("//login.example/login/?next=")


def test_login_required_passes_the_user_as_keyword(logged_in):
    body = logged_in.get("/user_info/profile").json
    assert body["kind"] == "profile"
    assert body["user"]["name"] == "alice"
    assert set(body["user"]) == {"id", "name", "picture"}


def test_bare_login_required_puts_the_user_in_g(logged_in):
    assert logged_in.get("/hidden").json["g_user"]["name"] == "alice"


def test_blueprint_is_protected_as_a_whole(client, login):
    assert client.get("/private/page").status_code == 302
    client.set_cookie("login", login("bob"))
    assert client.get("/private/page").json["g_user"]["name"] == "bob"


def test_login_optional_gives_none_when_logged_out_and_the_user_when_in(client, login):
    assert client.get("/profile_api").json == {"user": None}
    client.set_cookie("login", login("carol"))
    assert client.get("/profile_api").json["user"]["name"] == "carol"


def test_login_optional_view_accepts_a_custom_user(client_app, logged_in):
    view = client_app.config["profile_view"]
    assert view(user={"id": "custom"}) == {"user": {"id": "custom"}}
    with client_app.test_request_context("/profile_api"):
        assert view(user="someone else") == {"user": "someone else"}


def test_url_variable_may_not_impersonate_the_login_keyword(interface):
    app = flask.Flask("bad")
    required, _ = LoginBuilder(interface=interface).decorators

    @app.route("/u/<user>")
    @required(kw="user")
    def view(user):
        return str(user)

    app.testing = False
    assert app.test_client().get("/u/admin").status_code == 500


def test_decorators_of_one_builder_share_configuration(interface):
    required, optional = LoginBuilder(prefix="//a", interface=interface).decorators
    required.prefix = "//login.other:8000"
    assert optional.prefix == "//login.other:8000"
    assert required.builder is optional.builder


def test_module_level_decorators_share_their_prefix():
    before = default_required.prefix
    try:
        default_required.prefix = "//localhost:8000"
        assert default_optional.prefix == "//localhost:8000"
        assert default_required.builder.login_url("http://x/") == (
            "//localhost:8000/login/?next=http%3A%2F%2Fx%2F")
    finally:
        default_required.prefix = before


@pytest.mark.parametrize("cookie", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "x" * 3000])
def test_garbage_cookie_is_logged_out_and_cleared(client, cookie):
    client.set_cookie("login", cookie)
    response = client.get("/profile_api")
    assert response.status_code == 200
    assert response.json == {"user": None}
    assert client.get_cookie("login") is None, "the bad cookie must be deleted"


@pytest.mark.parametrize("suffix", ["==", "=", "%3D%3D"])
def test_a_padded_lease_counts_as_logged_out(client, login, suffix):
    token = login("alice")
    client.set_cookie("login", token)
    assert client.get("/profile_api").json["user"]["name"] == "alice"
    client.set_cookie("login", token + suffix)
    response = client.get("/profile_api")
    assert response.json == {"user": None}
    assert client.get_cookie("login") is None, "the padded cookie must be deleted"
    client.set_cookie("login", token + suffix)
    assert client.get("/hidden").status_code == 302


def test_forged_cookie_from_another_key_is_refused(client, login, interface):
    genuine = leases.verify_signature(login("alice"), interface.verifier.keys)
    forged = leases.issue(genuine, leases.SigningKey(Ed25519PrivateKey.generate()))
    client.set_cookie("login", forged)
    assert client.get("/hidden").status_code == 302
    assert client.get_cookie("login") is None


def test_expired_lease_is_renewed_and_the_new_cookie_set(client, login, clock):
    old = login("alice")
    client.set_cookie("login", old)
    clock.advance(15 * 60 + 1)
    response = client.get("/hidden")
    assert response.status_code == 200
    new = client.get_cookie("login").value
    assert new != old
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Path=/" in set_cookie


def test_revoked_session_is_refused_within_the_poll_bound(client, login, service_client, clock):
    token = login("alice")
    client.set_cookie("login", token)
    assert client.get("/hidden").status_code == 200
    page = service_client.get("/login/sessions").json
    response = service_client.post("/login/logout", headers={"X-CSRF-Token": page["csrf_token"]})
    assert response.status_code == 302
    client.set_cookie("login", token)
    clock.advance(0.3)  # the default poll interval is 0.25 s
    assert client.get("/hidden").status_code == 302
    assert client.get_cookie("login") is None


def test_a_revoked_session_cannot_be_renewed(client, login, service_client, interface, clock):
    token = login("alice")
    lease = interface.verifier.lease(token)
    interface.store.sessions.revoke(lease.session_id, "test", int(clock()))
    clock.advance(15 * 60 + 1)
    client.set_cookie("login", token)
    assert client.get("/hidden").status_code == 302


@pytest.mark.parametrize("header", [
    "a=1; login={token}; b=2",
    "login={token}",
    "xlogin=bad; login={token}",
    'other="quoted;value"; login={token}',
])
def test_the_lease_is_found_among_other_cookies(client_app, login, header):
    token = login("alice")
    response = client_app.test_client(use_cookies=False).get(
        "/hidden", headers={"Cookie": header.format(token=token)})
    assert response.status_code == 200
    assert response.json["g_user"]["name"] == "alice"


def test_a_cookie_merely_ending_in_login_is_not_the_lease(client_app, login):
    token = login("alice")
    response = client_app.test_client(use_cookies=False).get(
        "/hidden", headers={"Cookie": f"xlogin={token}"})
    assert response.status_code == 302
