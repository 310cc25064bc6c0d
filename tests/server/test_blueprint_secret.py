"""``LoginBlueprint`` on an app without a ``SECRET_KEY`` makes one in ``run/`` and keeps it, as the
original did: the service's pages work, and sessions survive a restart."""

from __future__ import annotations

import flask
import pytest

from flask_modular_login import LoginBlueprint
from tests.conftest import csrf_from


def bare_app(clock, **settings) -> flask.Flask:
    app = flask.Flask("bare")
    LoginBlueprint(app, clock=clock, **settings)
    return app


def log_in(client, username: str) -> None:
    page = client.get("/login/test/")
    assert page.status_code == 200 and "<form" in page.text, page.text
    response = client.post("/login/test/", data={"username": username,
                                                 "csrf_token": csrf_from(page.text)})
    assert response.status_code == 302, response.text


@pytest.mark.parametrize("spelling", ["config_keys", "lower_case"])
def test_a_bare_app_gets_a_private_secret_kept_in_run(run_dir, clock, spelling):
    settings = ({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": True} if spelling == "config_keys"
                else {"run_dir": str(run_dir), "debug": True})
    app = bare_app(clock, **settings)
    client = app.test_client()
    log_in(client, "alice")
    assert client.get("/login/sessions", headers={"Accept": "application/json"}).status_code == 200
    secret = run_dir / "flask_secret"
    assert oct(secret.stat().st_mode & 0o777) == "0o600"
    assert app.config["SECRET_KEY"] == secret.read_bytes() and len(secret.read_bytes()) == 32


def test_the_same_secret_is_used_after_a_restart(run_dir, clock):
    first = bare_app(clock, LOGIN_RUN_DIR=str(run_dir), LOGIN_DEBUG=True)
    client = first.test_client()
    page = client.get("/login/test/")  # the CSRF token lives in the app's signed session
    restarted = bare_app(clock, LOGIN_RUN_DIR=str(run_dir), LOGIN_DEBUG=True)
    assert restarted.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    again = restarted.test_client()
    again.set_cookie("session", client.get_cookie("session").value)
    response = again.post("/login/test/", data={"username": "alice",
                                                 "csrf_token": csrf_from(page.text)})
    assert response.status_code == 302, "the session made before the restart still holds"


def test_an_apps_own_secret_is_kept(run_dir, clock):
    app = flask.Flask("own")
    app.config["SECRET_KEY"] = "mine"
    LoginBlueprint(app, clock=clock, LOGIN_RUN_DIR=str(run_dir), LOGIN_DEBUG=True)
    assert app.config["SECRET_KEY"] == "mine"
    assert not (run_dir / "flask_secret").exists()


def test_an_unknown_setting_given_as_a_config_key_is_refused(run_dir, clock):
    with pytest.raises(ValueError, match="LOGIN_RUN_DIRR"):
        bare_app(clock, LOGIN_RUN_DIRR=str(run_dir))
