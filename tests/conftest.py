"""Fixtures that build the world: a frozen clock, a login service, a client app, a login."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import flask
import pytest

from flask_modular_login import LocalLoginInterface, LoginBuilder, create_app

START = 1_800_000_000.0


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return tmp_path / "run"


@pytest.fixture
def service(run_dir: Path, clock: FrozenClock) -> flask.Flask:
    app = create_app({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": True, "TESTING": True},
                     clock=clock)
    return app


@pytest.fixture
def service_client(service: flask.Flask):
    return service.test_client()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
def login(service_client) -> Callable[..., str]:
    """Log ``service_client`` in through the test provider; returns the lease token."""

    def do_login(username: str = "alice", client=None) -> str:
        client = client or service_client
        page = client.get("/login/test/")
        response = client.post("/login/test/", data={"username": username,
                                                     "csrf_token": csrf_from(page.text)})
        assert response.status_code == 302, response.text
        cookie = client.get_cookie("login")
        assert cookie is not None
        return cookie.value

    return do_login


@pytest.fixture
def interface(run_dir: Path, clock: FrozenClock, service: flask.Flask) -> LocalLoginInterface:
    """A client process's view of the same run dir (separate caches, same store and keys)."""
    return LocalLoginInterface(run_dir=str(run_dir), debug=True, clock=clock)


def readme_client_app(builder: LoginBuilder, name: str = "client_app") -> flask.Flask:
    """A client Flask app in the style of the README, guarded by ``builder``."""
    app = flask.Flask(name)
    login_required, login_optional = builder.decorators

    @app.route("/user_info/<kind>")
    @login_required(kw="user")
    def info(kind, user):
        return {"kind": kind, "user": user}

    @app.route("/profile_api")
    @login_optional(kw="user")
    def profile(user=None):
        return {"user": user}

    @app.route("/hidden")
    @login_required
    def hidden():
        return {"g_user": flask.g.user}

    blueprint = flask.Blueprint("private", __name__, url_prefix="/private")

    @blueprint.route("/page")
    def private_page():
        return {"g_user": flask.g.user}

    login_required(blueprint)
    app.register_blueprint(blueprint)
    app.config["profile_view"] = profile
    return app


@pytest.fixture
def client_app(interface: LocalLoginInterface) -> flask.Flask:
    """The README-style client app on this test's interface."""
    return readme_client_app(LoginBuilder(prefix="//login.example", interface=interface))


@pytest.fixture
def client(client_app: flask.Flask):
    return client_app.test_client()
