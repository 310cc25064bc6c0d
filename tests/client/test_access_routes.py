"""Routes that name groups: the README's examples, 403/401, bounce, via, fail closed."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import flask
import pytest

from flask_modular_login import AccessNamespace, Grant, LoginBuilder
from flask_modular_login.client.access import LocalAccess

JSON = {"Accept": "application/json"}


@pytest.fixture
def group():
    return AccessNamespace("test_group", ownership_method="test", owner_id="127.0.0.1")


@pytest.fixture
def chat():
    return AccessNamespace("chat", ownership_method="test", owner_id="127.0.0.1")


@pytest.fixture
def access_app(interface, group, chat):
    """The README's client app with groups (declared before anyone has logged in)."""
    app = flask.Flask("access_app")
    builder = LoginBuilder(prefix="//login.example", interface=interface)
    login_required, login_optional = builder.decorators

    @app.route("/access_profile")
    @login_required(kw="user", group=group)
    def access_profile(user):
        return {"user": user}

    @app.route("/chats/<DMing>/images/<img>")
    @login_required(kw="user", group=lambda DMing, img, user:
                    ~(chat / DMing / "blocked") & (chat / DMing / user["id"] / img / "read_access"))
    def image(DMing, img, user):
        return {"DMing": DMing, "img": img, "user": user}

    @app.route("/both")
    @login_required(kw="user", group=chat / "a" + chat / "b")
    def both(user):
        seen = {"user": dict(user, via=dict(user["via"]))}
        user["via"]["chat/a"] = "changed by the view"  # must not reach the next request
        return seen

    @app.route("/maybe")
    @login_optional(kw="user", group=chat / "a")
    def maybe(user=None):
        return {"user": user}

    @app.route("/bare")
    @login_required(group=chat / "a")
    def bare():
        return {"g_user": flask.g.user}

    rooms = flask.Blueprint("rooms", __name__, url_prefix="/rooms")

    @rooms.route("/<room>")
    def room(room):
        return {"room": room, "g_user": flask.g.user}

    login_required(rooms, group=lambda room, user: chat / "rooms" / room)
    app.register_blueprint(rooms)
    return app


@pytest.fixture
def browser(access_app):
    return access_app.test_client()


@pytest.fixture
def as_user(browser, login, interface):
    """Log the browser in as ``name``; returns the user's id."""

    def log_in(name: str) -> str:
        token = login(name)
        browser.set_cookie("login", token)
        return interface.authenticate(token).user["id"]

    return log_in


def test_the_owner_identity_enters_even_though_it_logged_in_after_the_declaration(
        browser, as_user):
    owner = as_user("127.0.0.1")
    response = browser.get("/access_profile")
    assert response.status_code == 200
    assert response.json["user"]["id"] == owner
    assert "via" not in response.json["user"], "via only for expressions with +"


def test_a_user_outside_the_group_gets_403_and_api_requests_401_json(browser, as_user):
    as_user("bob")
    assert browser.get("/access_profile").status_code == 403
    response = browser.get("/access_profile", headers=JSON)
    assert response.status_code == 401
    assert response.json["error"] == "access_denied"


def test_a_logged_out_user_is_bounced_to_login_before_any_group_check(browser, monkeypatch):
    monkeypatch.setattr(LocalAccess, "evaluate", lambda *a: pytest.fail("group evaluated"))
    response = browser.get("/access_profile")
    assert response.status_code == 302
    assert urlsplit(response.location).netloc == "login.example"
    assert browser.get("/access_profile", headers=JSON).json["error"] == "login_required"


def test_the_image_route_of_the_readme(browser, as_user, interface, chat):
    bob = as_user("bob")
    alice = as_user("alice")
    assert browser.get(f"/chats/{bob}/images/cat").status_code == 403
    interface.access.add_member(chat / bob / alice, alice)  # flows down to every image
    response = browser.get(f"/chats/{bob}/images/cat")
    assert response.status_code == 200
    assert response.json == {"DMing": bob, "img": "cat", "user": response.json["user"]}
    interface.access.add_member(chat / bob / "blocked", alice)
    assert browser.get(f"/chats/{bob}/images/cat").status_code == 403


def test_access_flows_down_not_up_nor_sideways(browser, as_user, interface, chat):
    alice = as_user("alice")
    interface.access.add_member(chat / "rooms", alice)
    assert browser.get("/rooms/kitchen").status_code == 200
    interface.access.remove_member(chat / "rooms", alice)
    interface.access.add_member(chat / "rooms" / "kitchen" / "fridge", alice)
    assert browser.get("/rooms/kitchen").status_code == 403
    interface.access.add_member(chat / "rooms" / "hall", alice)
    assert browser.get("/rooms/kitchen").status_code == 403


def test_plus_tells_the_view_which_membership_granted_what(browser, as_user, interface, chat):
    alice = as_user("alice")
    interface.access.add_member(chat, alice, Grant(expires=None))
    for _ in range(2):
        assert browser.get("/both").json["user"]["via"] == {"chat/a": "chat", "chat/b": "chat"}
    interface.access.remove_member(chat, alice)
    interface.access.add_member(chat / "b", alice)
    user = browser.get("/both").json["user"]
    assert user["via"] == {"chat/a": None, "chat/b": "chat/b"}
    assert user["name"] == "alice"


def test_bare_login_required_with_a_group_puts_the_admitted_user_in_g(
        browser, as_user, interface, chat):
    alice = as_user("alice")
    assert browser.get("/bare").status_code == 403
    interface.access.add_member(chat / "a", alice)
    assert browser.get("/bare").json["g_user"]["id"] == alice


def test_login_optional_never_refuses_and_gives_a_user_only_to_members(
        browser, as_user, interface, chat):
    assert browser.get("/maybe").json == {"user": None}
    alice = as_user("alice")
    assert browser.get("/maybe").json == {"user": None}, "logged in, but not a member"
    interface.access.add_member(chat / "a", alice)
    assert browser.get("/maybe").json["user"]["id"] == alice


def test_a_blueprint_can_require_a_group(browser, as_user, interface, chat):
    assert browser.get("/rooms/kitchen").status_code == 302
    alice = as_user("alice")
    assert browser.get("/rooms/kitchen", headers=JSON).status_code == 401
    interface.access.add_member(chat / "rooms" / "kitchen", alice)
    assert browser.get("/rooms/kitchen").json["g_user"]["id"] == alice


def test_any_error_while_deciding_denies_and_is_logged_without_the_cookie(
        browser, login, interface, caplog, monkeypatch):
    token = login("127.0.0.1")  # the owner: allowed whenever the check works
    browser.set_cookie("login", token)
    assert browser.get("/access_profile").status_code == 200

    def broken(*args, **kwargs):
        raise OSError("database unreachable")

    monkeypatch.setattr(interface.store.access, "grants", broken)
    interface.access.cache.clear()
    with caplog.at_level(logging.WARNING, logger="flask_modular_login.access"):
        assert browser.get("/access_profile").status_code == 403
        assert browser.get("/access_profile", headers=JSON).status_code == 401
    assert "OSError: database unreachable" in caplog.text
    assert token not in caplog.text


@pytest.mark.parametrize("spec", [
    lambda user: user["no such key"],
    lambda: "not an expression",
    "not callable",
    lambda user: 1 / 0,
])
def test_a_broken_group_callable_denies(interface, login, spec):
    app = flask.Flask("broken")
    required, _ = LoginBuilder(interface=interface).decorators

    @app.route("/x")
    @required(group=spec)
    def view():
        return "never"

    client = app.test_client()
    client.set_cookie("login", login("127.0.0.1"))
    assert client.get("/x").status_code == 403


def test_namespaces_can_be_declared_after_the_first_request(interface, login):
    app = flask.Flask("late")
    required, _ = LoginBuilder(interface=interface).decorators

    @app.route("/late/<name>")
    @required(kw="user", group=lambda name, user: AccessNamespace(
        name, ownership_method="test", owner_id=user["name"]) / "inside")
    def late(name, user):
        return name

    client = app.test_client()
    client.set_cookie("login", login("dora"))
    assert client.get("/late/doras").status_code == 200, "dora owns what she declares"
    client.set_cookie("login", login("eve"))
    assert client.get("/late/doras").status_code == 403


def test_login_optional_on_a_blueprint_leaves_only_admitted_users_in_g(interface, login, chat):
    app = flask.Flask("optional_bp")
    _, optional = LoginBuilder(interface=interface).decorators
    lobby = flask.Blueprint("lobby", __name__)

    @lobby.route("/lobby")
    def page():
        return {"g_user": flask.g.user}

    optional(lobby, group=chat / "lobby")
    app.register_blueprint(lobby)
    client = app.test_client()
    assert client.get("/lobby").json == {"g_user": None}
    client.set_cookie("login", login("bob"))
    assert client.get("/lobby").json == {"g_user": None}
    client.set_cookie("login", login("127.0.0.1"))
    assert client.get("/lobby").json["g_user"]["name"] == "127.0.0.1"
