"""The original (0.1.1) client API keeps working: its README's snippets run as written, and the
small conveniences it had (``.group(name)``, the user under the ``kw`` name in a group callable,
route arguments of any converter as group names, namespaces that exist once the app serves)."""

from __future__ import annotations

import logging
import uuid

import flask
import pytest

from flask_modular_login import AccessNamespace, LoginBuilder
from flask_modular_login import login_required as default_required
from flask_modular_login.client import declared
from flask_modular_login.client.namespace import OwnedPath
from flask_modular_login.core.groups import GroupPath
from tests.support.access import Browser

JSON = {"Accept": "application/json"}

# The original README's "Add Logging in to Projects" snippet, exactly as it was published.
ORIGINAL_CLIENT_SNIPPET = '''
import flask
from flask_modular_login import login_required, login_optional
app = flask.Flask(__name__)
login_required.prefix = "//localhost:8000"
@app.route("/user_info/<kind>")
@login_required(kw="user")
def protected_or_user_info(kind, user):
    # only logged in users can access this route, others redirected by flask
    # user argument now contains keys id, name, picture
    return user["id"]
@app.route("/profile_api")
@login_optional(kw="user")
def profile(user=None):
    # login optional can be used when logged out users shouldn't see a redirect
    return str(user)
@app.route("/hidden")
@login_required
def hidden():
    # same as before, but the user info is now stored in flask.g.user
    return profile(user={"id": flask.g.user["id"], "name": "me", "picture": ""})
# methods with optional login can also be called with a custom user argument
# but only as a keyword, since *args wrappers can make positional matching
# unreliable
bp = flask.Blueprint("private", __name__, url_prefix="/private")
login_required(bp) # returns bp, could be integrated into line above
@bp.route("/page")
def page():
    # user info in flask.g.user, access limited to logged in users
    return flask.g.user["name"]
app.register_blueprint(bp) # login_required call could also be here
if __name__ == "__main__":
    app.run(port=8080)
'''

# The original README's "Authentication Groups" snippet, exactly as it was published.
ORIGINAL_GROUP_SNIPPET = '''
import flask
from flask_modular_login import AccessNamespace
from flask_modular_login import login_required
app = flask.Flask(__name__)
login_required.prefix = "//localhost:8000"
group = AccessNamespace(
"test_group", ownership_method="test", owner_id="127.0.0.1")
@app.route("/access_profile")
@login_required(kw="user", group=group)
def access_profile(user):
    return str(user)
if __name__ == "__main__":
    app.run(port=8080)
'''

ORIGINAL_BUILDER_SNIPPET = '''
from flask_modular_login import LoginBuilder
login_config = LoginBuilder(prefix="http://localhost:8000")
login_required, login_optional = login_config.decorators
'''


@pytest.fixture
def default_builder(interface, monkeypatch):
    """The module-level ``login_required``/``login_optional``, checking against the test's run
    dir; their prefix is restored afterwards."""
    builder = default_required.builder
    monkeypatch.setattr(builder, "_interface", interface)
    monkeypatch.setattr(builder, "prefix", builder.prefix)
    return builder


def run_snippet(source: str) -> dict:
    scope: dict = {"__name__": "original_readme"}
    exec(compile(source, "original_readme", "exec"), scope)  # noqa: S102
    return scope


@pytest.fixture
def chat():
    return AccessNamespace("chat", ownership_method="test", owner_id="127.0.0.1")


# -- the original README's snippets ------------------------------------------------------------


def test_the_original_client_snippet_runs_as_written(default_builder, login):
    app = run_snippet(ORIGINAL_CLIENT_SNIPPET)["app"]
    client = app.test_client()
    bounced = client.get("/user_info/x")
    assert bounced.status_code == 302 and bounced.location.startswith("//localhost:8000/login/")
    assert client.get("/profile_api").text == "None"
    assert client.get("/private/page").status_code == 302
    client.set_cookie("login", login("alice"))
    user_id = client.get("/user_info/x").text
    assert user_id and client.get("/private/page").text == "alice"
    assert "'name': 'alice'" in client.get("/profile_api").text
    assert client.get("/hidden").text == str({"id": user_id, "name": "me", "picture": ""})


def test_the_original_group_snippet_runs_as_written(default_builder, login):
    app = run_snippet(ORIGINAL_GROUP_SNIPPET)["app"]
    client = app.test_client()
    client.set_cookie("login", login("alice"))
    assert client.get("/access_profile").status_code == 403
    client.set_cookie("login", login("127.0.0.1"))
    assert "'name': '127.0.0.1'" in client.get("/access_profile").text


def test_the_original_builder_snippet_makes_decorators_sharing_one_prefix():
    scope = run_snippet(ORIGINAL_BUILDER_SNIPPET)
    required, optional = scope["login_required"], scope["login_optional"]
    assert required.builder is optional.builder is scope["login_config"]
    assert required.prefix == optional.prefix == "http://localhost:8000"


# -- .group(name) ------------------------------------------------------------------------------


def test_group_names_a_subgroup_like_slash_and_chains(chat):
    path = chat.group("x").group("y")
    assert path == chat / "x" / "y"
    assert isinstance(path, OwnedPath) and path.owner == ("test", "127.0.0.1")
    assert (chat / "x").group("y") == chat.group("x") / "y"
    with pytest.raises(ValueError):
        chat.group("a/b")


def test_a_route_guarded_with_group_calls(interface, login, chat):
    app = flask.Flask("group_calls")
    required, _ = LoginBuilder(interface=interface).decorators

    @app.route("/rooms/<room>")
    @required(kw="user", group=lambda room, user: chat.group("rooms").group(room))
    def room(room, user):
        return room

    client = app.test_client()
    client.set_cookie("login", login("alice"))
    alice = interface.authenticate(login("alice")).user["id"]
    assert client.get("/rooms/kitchen").status_code == 403
    interface.access.add_member(chat / "rooms" / "kitchen", alice)
    assert client.get("/rooms/kitchen").text == "kitchen"


# -- the user under the kw name ------------------------------------------------------------------


@pytest.fixture
def kw_app(interface, chat):
    app = flask.Flask("kw_name")
    required, optional = LoginBuilder(interface=interface).decorators

    @app.route("/rooms/<room>")
    @required(kw="viewer", group=lambda room, viewer: chat / room / viewer["id"])
    def room(room, viewer):
        return {"viewer": viewer["id"]}

    @app.route("/both")
    @optional(kw="viewer", group=lambda viewer, user: chat / "both" / viewer["id"]
              if viewer is user else chat / "never")
    def both(viewer=None):
        return {"viewer": viewer and viewer["id"]}

    return app


def test_a_group_callable_gets_the_user_under_the_kw_name(kw_app, interface, login, chat):
    client = kw_app.test_client()
    client.set_cookie("login", login("alice"))
    alice = interface.authenticate(login("alice")).user["id"]
    assert client.get("/rooms/hall").status_code == 403
    interface.access.add_member(chat / "hall" / alice, alice)
    assert client.get("/rooms/hall").json == {"viewer": alice}
    assert client.get("/both").json == {"viewer": None}
    interface.access.add_member(chat / "both" / alice, alice)
    assert client.get("/both").json == {"viewer": alice}, "viewer and user: the same user"


def test_a_url_variable_named_like_kw_is_still_refused(interface, login, chat):
    app = flask.Flask("kw_clash")
    required, _ = LoginBuilder(interface=interface).decorators

    @app.route("/as/<viewer>")
    @required(kw="viewer", group=lambda viewer: chat / viewer["id"])
    def view(viewer):
        return str(viewer)

    app.testing = False
    client = app.test_client()
    client.set_cookie("login", login("127.0.0.1"))  # the owner: allowed if it were evaluated
    assert client.get("/as/admin").status_code == 500


# -- route arguments of any converter ------------------------------------------------------------


def test_int_and_uuid_route_arguments_become_group_names(interface, login, chat):
    app = flask.Flask("converters")
    required, _ = LoginBuilder(interface=interface).decorators

    @app.route("/rooms/<int:room>")
    @required(kw="user", group=lambda room: chat / "rooms" / room)
    def room(room, user):
        return {"room": room}

    @app.route("/files/<uuid:file>")
    @required(kw="user", group=lambda file: chat.group("files").group(file))
    def file(file, user):
        return {"file": str(file)}

    @app.route("/docs/<path:doc>")
    @required(kw="user", group=lambda doc: chat / "docs" / doc)
    def doc(doc, user):
        return {"doc": doc}

    client = app.test_client()
    client.set_cookie("login", login("alice"))
    alice = interface.authenticate(login("alice")).user["id"]
    some = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert client.get("/rooms/5").status_code == 403
    assert client.get(f"/files/{some}").status_code == 403
    interface.access.add_member(chat / "rooms" / "5", alice)
    interface.access.add_member(chat / "files" / str(some), alice)
    assert client.get("/rooms/5").json == {"room": 5}
    assert client.get("/rooms/6").status_code == 403
    assert client.get(f"/files/{some}").json == {"file": str(some)}
    interface.access.add_member(chat / "docs", alice)
    assert client.get("/docs/readme").status_code == 200
    assert client.get("/docs/a/b").status_code == 403, "a '/' inside a name is refused"


# -- namespaces exist once the app serves ------------------------------------------------------


def invitable(browser: Browser) -> list[str]:
    return [g["group"] for g in browser.get_json("/login/access/invite").json["groups"]]


CELLAR = AccessNamespace("cellar", ownership_method="test", owner_id="olivia")


@pytest.fixture
def declaring_app(interface):
    """A client app whose only guarded routes are never requested in the tests below."""
    lounge = AccessNamespace("lounge", ownership_method="test", owner_id="olivia")
    attic = AccessNamespace("attic", ownership_method="test", owner_id="olivia")
    app = flask.Flask("declaring")
    required, _ = LoginBuilder(interface=interface).decorators

    @app.route("/lounge")
    @required(group=lounge / "members")
    def lounge_page():
        return "never requested"

    @app.route("/attic/<box>")
    @required(group=lambda box, user: attic / box)
    def attic_page(box):
        return "never requested"

    @app.route("/")
    def index():
        return "hello"

    cellar = flask.Blueprint("cellar", __name__, url_prefix="/cellar")

    @cellar.route("/<crate>")
    def crate_page(crate):
        return "never requested"

    required(cellar, group=lambda crate: CELLAR / crate)  # a module-level namespace
    app.register_blueprint(cellar)
    return app


def test_declared_namespaces_exist_after_the_apps_first_request_of_any_route(
        declaring_app, service, login, interface):
    olivia = Browser(service, login, "olivia")
    assert invitable(olivia) == []
    assert declaring_app.test_client().get("/").text == "hello"  # an unguarded route
    assert sorted(invitable(olivia)) == ["attic", "cellar", "lounge"]
    for name in ("attic", "cellar", "lounge"):
        assert interface.store.access.owners(GroupPath(name)) == [("test", "olivia")]


def test_namespaces_are_written_once_per_process(declaring_app, interface, monkeypatch):
    made = []
    original = type(interface.access)._make
    monkeypatch.setattr(type(interface.access), "_make",
                        lambda self, path, owner: made.append(str(path)) or original(
                            self, path, owner))
    client = declaring_app.test_client()
    for _ in range(3):
        client.get("/")
    assert sorted(made) == ["attic", "cellar", "lounge"]


def test_a_failure_to_write_namespaces_is_logged_never_breaks_the_request_and_is_retried(
        declaring_app, interface, monkeypatch, caplog, clock):
    def broken(self, path, owner):
        raise OSError("database unreachable")

    monkeypatch.setattr(type(interface.access), "_make", broken)
    with caplog.at_level(logging.WARNING, logger="flask_modular_login.access"):
        assert declaring_app.test_client().get("/").text == "hello"
    assert "OSError: database unreachable" in caplog.text
    monkeypatch.undo()
    assert interface.store.access.owners(GroupPath("lounge")) == []
    declaring_app.test_client().get("/")
    assert interface.store.access.owners(GroupPath("lounge")) == [], "not before the interval"
    clock.advance(declared.RETRY_SECONDS)
    declaring_app.test_client().get("/")
    assert interface.store.access.owners(GroupPath("lounge")) == [("test", "olivia")]
