"""The pytest plugin for apps that use us (flask_modular_login.testing): a logged-in test
client with leases and groups, without the login service, its run/ or a database."""

from __future__ import annotations

import importlib.util
import sys
import time

import flask
import pytest

from flask_modular_login import AccessNamespace, LoginBuilder, login_optional, login_required
from flask_modular_login.testing import FakeLoginInterface, LoginTestClient, plugged
from tests.support.servers import ROOT

pytest_plugins = ["pytester"]

chat = AccessNamespace("chat", ownership_method="test", owner_id="owner")
JSON = {"Accept": "application/json"}


def make_app() -> flask.Flask:
    app = flask.Flask(__name__)

    @app.route("/me")
    @login_required(kw="user")
    def me(user):
        return {"id": user["id"], "name": user["name"]}

    @app.route("/maybe")
    @login_optional(kw="user")
    def maybe(user=None):
        return {"user": user and user["id"]}

    @app.route("/rooms/<room>")
    @login_required(kw="user", group=lambda room: chat / room)
    def room(room, user):
        return {"room": room, "id": user["id"]}

    @app.route("/admin")
    @login_required(kw="user", group=AccessNamespace("admins", ownership_method="test",
                                                     owner_id="owner"))
    def admin(user):
        return {"admin": user["id"]}

    @app.route("/via/<room>")
    @login_required(kw="user", group=lambda room: (chat / room) + (chat / "lobby"))
    def via(room, user):
        return {"via": user["via"]}

    @app.route("/peek")
    @login_optional(kw="user", group=chat / "secret")
    def peek(user=None):
        return {"user": user and user["id"]}

    return app


@pytest.fixture
def app():
    return make_app()


# ------------------------------------------------------------------ the fixture, directly


def test_logged_out_is_bounced_and_logged_in_gets_the_user(login_client, app):
    client = login_client(app)
    assert client.get("/me", headers=JSON).status_code == 401
    client.login(user_id="u1", name="Ann")
    answer = client.get("/me")
    assert answer.status_code == 200 and answer.json == {"id": "u1", "name": "Ann"}
    assert "Cookie" in answer.headers["Vary"]


def test_login_optional_sees_the_user_or_none(login_client, app):
    client = login_client(app)
    assert client.get("/maybe").json == {"user": None}
    client.login("u1")
    assert client.get("/maybe").json == {"user": "u1"}


def test_groups_given_at_login_open_routes_and_flow_down_the_tree(login_client, app):
    client = login_client(app)
    client.login(user_id="u1", name="Ann", groups=["chat/room", "admins"])
    assert client.get("/rooms/room").json == {"room": "room", "id": "u1"}
    assert client.get("/admin").json == {"admin": "u1"}
    assert client.get("/rooms/other").status_code == 403
    assert client.get("/rooms/other", headers=JSON).status_code == 401

    boss = login_client(app)
    boss.login("boss", groups=[chat])                      # the root: every room below it
    assert boss.get("/rooms/other").status_code == 200
    assert boss.get("/admin").status_code == 403


def test_login_without_groups_is_refused_by_group_routes(login_client, app):
    client = login_client(app)
    client.login("u1")
    assert client.get("/rooms/room").status_code == 403
    assert client.get("/peek").json == {"user": None}      # login_optional: not allowed = None
    client.grant(chat / "secret")
    assert client.get("/peek").json == {"user": "u1"}
    client.revoke("chat/secret")
    assert client.get("/peek").json == {"user": None}


def test_via_reports_the_granting_membership(login_client, app):
    client = login_client(app)
    client.login("u1", groups=["chat"])
    assert client.get("/via/room").json == {"via": {"chat/room": "chat", "chat/lobby": "chat"}}


def test_logout_refuses_the_old_cookie(login_client, app):
    client = login_client(app)
    old = client.login("u1")
    assert client.get("/me").status_code == 200
    client.logout()
    assert client.token is None
    assert client.get("/me", headers=JSON).status_code == 401
    client.set_cookie("login", old)                        # a copy of the ended session's cookie
    answer = client.get("/me", headers=JSON)
    assert answer.status_code == 401
    assert client.token is None, "the refused cookie is deleted"


def test_expire_renews_the_lease(login_client, fake_login, app):
    client = login_client(app)
    first = client.login("u1", name="Ann")
    expired = client.expire()
    assert expired != first
    answer = client.get("/me")
    assert answer.status_code == 200 and answer.json["name"] == "Ann"
    assert fake_login.renewals == 1
    renewed = client.token                                 # set by the response
    assert renewed != expired                              # (may equal first: same second)
    assert fake_login.verifier.lease(renewed).expires_at > time.time()
    assert client.get("/me").status_code == 200 and fake_login.renewals == 1


def test_an_expired_lease_of_an_ended_session_is_not_renewed(login_client, fake_login, app):
    client = login_client(app)
    client.login("u1")
    client.expire()
    client.end_session()
    assert client.get("/me", headers=JSON).status_code == 401
    assert fake_login.renewals == 0


def test_a_garbage_cookie_and_another_fakes_lease_are_logged_out(login_client, app):
    client = login_client(app)
    client.set_cookie("login", "garbage")
    assert client.get("/maybe").json == {"user": None}
    stranger = FakeLoginInterface().login("u1").token      # signed by another throwaway key
    client.set_cookie("login", stranger)
    assert client.get("/maybe").json == {"user": None}


def test_an_apps_own_builder_is_found_and_given_back(login_client):
    builder = LoginBuilder()
    required, optional = builder.decorators
    app = flask.Flask(__name__)

    @app.route("/mine")
    @required(kw="user", group=chat / "mine")
    def mine(user):
        return user["id"]

    bp = flask.Blueprint("private", __name__, url_prefix="/private")
    other = LoginBuilder()

    @bp.route("/")
    def index():
        return flask.g.user["id"]

    other.decorators[0](bp)
    app.register_blueprint(bp)

    before = builder._interface
    client = login_client(app)
    client.login("u1", groups=["chat/mine"])
    assert client.get("/mine").text == "u1"
    assert client.get("/private/").text == "u1"
    assert builder._interface is client.fake and other._interface is client.fake
    assert before is None


def test_plugged_gives_the_interfaces_back():
    import flask_modular_login

    app = make_app()
    default = flask_modular_login._default_builder
    before = default._interface
    fake = FakeLoginInterface(lease_seconds=60)
    with plugged(app, fake):
        client = LoginTestClient(app, fake)
        client.login("u1")
        assert client.get("/me").status_code == 200
        assert default._interface is fake
    assert default._interface is before


def test_settings_build_the_fake(login_client, app):
    client = login_client(app, cookie_name="session_lease", lease_seconds=30)
    client.login("u1")
    assert client.get_cookie("session_lease") is not None
    assert client.fake.settings.lease_seconds == 30
    assert client.get("/me").status_code == 200


# ------------------------------------------------------------------ the example app


@pytest.fixture
def example(monkeypatch, tmp_path):
    """A fresh import of examples/client_app.py, with no run dir of a service anywhere."""
    monkeypatch.setenv("LOGIN_RUN_DIR", str(tmp_path / "nowhere"))
    spec = importlib.util.spec_from_file_location("client_app", ROOT / "examples/client_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("client_app", None)


def test_the_example_app_with_the_fixture(login_client, example):
    client = login_client(example.app)
    assert client.get("/hidden").status_code == 302
    client.login("u1", name="Ann", groups=["test_group", "chat/dm/u1/cat/read_access"])
    assert client.get("/hidden").json == {"hello": "Ann"}
    assert client.get("/user_info/x").json == {"kind": "x", "id": "u1", "name": "Ann"}
    assert client.get("/profile_api").json["user"]["id"] == "u1"
    assert client.get("/private/").json["user"]["name"] == "Ann"
    assert client.get("/access_profile").json == {"id": "u1", "name": "Ann"}
    assert client.get("/chats/dm/images/cat").json == {"chat": "dm", "image": "cat",
                                                        "viewer": "Ann"}
    assert client.get("/chats/dm/images/dog").status_code == 403
    client.grant("chat/dm/blocked")                          # ~blocked & read_access
    assert client.get("/chats/dm/images/cat").status_code == 403
    client.logout()
    assert client.get("/profile_api").json == {"user": None}


# ------------------------------------------------------------------ through the entry point

APP_TESTS = '''
import flask
from flask_modular_login import login_required

app = flask.Flask(__name__)

@app.route("/rooms/<room>")
@login_required(kw="user", group=lambda room: __import__("flask_modular_login").core.groups
                .GroupPath("chat") / room)
def room(room, user):
    return user["name"]

def test_logged_in(login_client):
    client = login_client(app)
    client.login(user_id="u1", name="Ann", groups=["chat/room"])
    assert client.get("/rooms/room").text == "Ann"
    assert client.get("/rooms/other").status_code == 403
    client.logout()
    assert client.get("/rooms/room").status_code == 302
'''


def test_an_apps_tests_get_the_fixture_through_the_entry_point(pytester):
    pytester.makepyfile(test_app=APP_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_without_the_plugin_the_fixture_is_missing(pytester):
    pytester.makepyfile(test_app=APP_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:flask_modular_login",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'login_client' not found*"])


MYAPP = '''
import flask
from flask_modular_login import AccessNamespace, login_required

app = flask.Flask(__name__)
chat = AccessNamespace("chat", ownership_method="test", owner_id="owner")

@app.route("/rooms/<room>")
@login_required(kw="user", group=lambda room: chat / room)
def room(room, user):
    return user["name"]
'''


def test_the_docs_example_passes(pytester):
    text = (ROOT / "docs/testing.md").read_text()
    example = text.split("```python\n", 1)[1].split("```", 1)[0]
    pytester.makepyfile(myapp=MYAPP, test_docs=example)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_remote_builder_needs_no_channel(login_client):
    from flask_modular_login import RemoteLoginBuilder

    remote = RemoteLoginBuilder(base_url="http://login.invalid", uri="ws://login.invalid:1",
                                credential="unused")
    required, _ = remote.decorators
    app = flask.Flask(__name__)

    @app.route("/r/<room>")
    @required(kw="user", group=lambda room: chat / room)
    def room(room, user):
        return user["id"]

    client = login_client(app)
    client.login("u1", groups=["chat/a"])
    assert client.get("/r/a").text == "u1"
    assert client.get("/r/b").status_code == 403
    assert remote._interface is client.fake
