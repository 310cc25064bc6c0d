"""A client app finds the service's run directory, or answers one clear error and creates
nothing: ``LOGIN_RUN_DIR``, else ``./run`` holding keys, else the run/ of the checkout the
package is installed from (an editable install)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import flask
import pytest

from flask_modular_login import LocalLoginInterface, LoginBuilder, config
from flask_modular_login.config import RunDirNotFound, find_run_dir, load_client_settings
from flask_modular_login.store import open_store
from tests.conftest import readme_client_app

JSON = {"Accept": "application/json"}


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A client app's own project directory, no LOGIN_RUN_DIR, the package installed from
    somewhere that is not a checkout with keys."""
    project = tmp_path / "my_project"
    project.mkdir()
    monkeypatch.chdir(project)
    monkeypatch.delenv("LOGIN_RUN_DIR", raising=False)
    monkeypatch.setattr(config, "PACKAGE_DIR",
                        tmp_path / "venv" / "site-packages" / "flask_modular_login")
    return project


def client_app(builder: LoginBuilder) -> flask.Flask:
    """The README's client app, on ``builder``."""
    return readme_client_app(builder, "my_app")


def test_without_a_run_dir_every_guarded_route_answers_one_clear_503_logged_once(
        elsewhere, caplog):
    builder = LoginBuilder(prefix="//localhost:8000")  # at import time: nothing is looked up
    client = client_app(builder).test_client()
    caplog.set_level(logging.INFO, logger="flask_modular_login")
    for path in ("/profile_api", "/profile_api", "/hidden", "/private/page"):
        answer = client.get(path, headers=JSON)
        assert answer.status_code == 503, answer.text
        assert answer.json["error"] == "run_dir_not_found"
        assert "LOGIN_RUN_DIR" in answer.json["message"]
        assert str(elsewhere) not in answer.json["message"], "no server path shown to visitors"
        assert answer.headers["Vary"] == "Cookie"
    page = client.get("/profile_api")
    assert page.status_code == 503 and page.mimetype == "text/plain"
    assert "LOGIN_RUN_DIR" in page.text and "Traceback" not in page.text
    logged = [r for r in caplog.records if "LOGIN_RUN_DIR" in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.ERROR
    assert str(elsewhere / "run") in logged[0].getMessage(), "the log says where it looked"
    assert logged[0].exc_info is None, "a clear line, not a traceback"
    assert list(elsewhere.iterdir()) == [], "no run/ (no users.db) left behind"


def test_the_error_names_the_setting_and_every_place_looked(elsewhere, tmp_path, monkeypatch):
    checkout = tmp_path / "repo"
    (checkout / "src" / "flask_modular_login").mkdir(parents=True)
    monkeypatch.setattr(config, "PACKAGE_DIR", checkout / "src" / "flask_modular_login")
    with pytest.raises(RunDirNotFound) as raised:
        find_run_dir()
    message = str(raised.value)
    assert "LOGIN_RUN_DIR" in message
    assert str(elsewhere / "run") in message and str(checkout / "run") in message
    assert isinstance(raised.value, FileNotFoundError) and raised.value.code == "run_dir_not_found"
    assert not (checkout / "run").exists() and list(elsewhere.iterdir()) == []


def test_an_interface_built_at_import_time_raises_at_its_first_check(elsewhere, caplog):
    class AiohttpStyle(LocalLoginInterface):
        def get_cookie(self, request):
            return request.get("login")

        def set_cookie(self, value, request):
            request["login"] = value

    login = AiohttpStyle()  # the aiohttp example builds it at import: no error yet
    with pytest.raises(RunDirNotFound, match="LOGIN_RUN_DIR"):
        login.authenticate(None)
    with pytest.raises(RunDirNotFound, match="LOGIN_RUN_DIR"):
        asyncio.run(login({}))  # not "logged out": the app must see it is not set up
    with pytest.raises(RunDirNotFound):
        login.access  # noqa: B018
    login.close()
    assert list(elsewhere.iterdir()) == []


def test_a_run_dir_with_keys_in_the_working_directory_is_used(
        service, login, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the service's run/ is tmp_path / "run"
    monkeypatch.delenv("LOGIN_RUN_DIR", raising=False)
    monkeypatch.setattr(config, "PACKAGE_DIR", tmp_path / "venv" / "flask_modular_login")
    builder = LoginBuilder(debug=True)
    client = client_app(builder).test_client()
    assert client.get("/profile_api").json == {"user": None}
    client.set_cookie("login", login("alice"))
    assert client.get("/hidden").json["g_user"]["name"] == "alice"
    assert builder.interface.settings.run_dir == (tmp_path / "run").resolve()


def test_an_editable_install_finds_its_checkout_run_dir(service, login, tmp_path, elsewhere,
                                                        monkeypatch):
    # tmp_path is the checkout: the service's keys are in tmp_path / "run" / "keys".
    package = tmp_path / "src" / "flask_modular_login"
    package.mkdir(parents=True)
    monkeypatch.setattr(config, "PACKAGE_DIR", package)
    assert find_run_dir() == (tmp_path / "run").resolve()
    builder = LoginBuilder(debug=True)
    client = client_app(builder).test_client()
    client.set_cookie("login", login("bob"))
    assert client.get("/profile_api").json["user"]["name"] == "bob"
    assert list(elsewhere.iterdir()) == []


def test_the_checkout_is_not_used_without_keys_nor_outside_a_src_layout(tmp_path, elsewhere,
                                                                       monkeypatch):
    (tmp_path / "run" / "keys").mkdir(parents=True)  # a run/ without keys
    monkeypatch.setattr(config, "PACKAGE_DIR", tmp_path / "src" / "flask_modular_login")
    (tmp_path / "src" / "flask_modular_login").mkdir(parents=True)
    with pytest.raises(RunDirNotFound):
        find_run_dir()
    (tmp_path / "run" / "keys" / "ed25519-1-a.pem").write_text("")
    assert find_run_dir() == (tmp_path / "run").resolve()
    monkeypatch.setattr(config, "PACKAGE_DIR", tmp_path / "lib" / "flask_modular_login")
    with pytest.raises(RunDirNotFound):
        find_run_dir()  # an ordinary install: its parents are no checkout


def test_login_run_dir_wins_over_the_search(tmp_path, elsewhere, monkeypatch):
    (elsewhere / "run" / "keys").mkdir(parents=True)
    (elsewhere / "run" / "keys" / "ed25519-1-a.pem").write_text("")
    monkeypatch.setenv("LOGIN_RUN_DIR", str(tmp_path / "service_run"))
    assert load_client_settings().run_dir == tmp_path / "service_run"
    assert load_client_settings(run_dir=tmp_path / "kw").run_dir == tmp_path / "kw"
    monkeypatch.delenv("LOGIN_RUN_DIR")
    assert load_client_settings().run_dir == (elsewhere / "run").resolve()


def test_a_client_opens_the_database_without_ever_creating_it(tmp_path):
    path = tmp_path / "run" / "users.db"
    with pytest.raises(FileNotFoundError, match="users.db"):
        open_store(f"sqlite:///{path}", create=False)
    assert not path.parent.exists()
    open_store(f"sqlite:///{path}", migrate=True).dispose()  # the service creates it
    store = open_store(f"sqlite:///{path}", create=False)
    with store.read() as conn:
        assert conn.exec_driver_sql("select count(*) from users").scalar() == 0
    store.dispose()
    for leftover in path.parent.iterdir():
        leftover.unlink()
    with pytest.raises(Exception, match="unable to open"), store.read() as conn:
        conn.exec_driver_sql("select 1")  # gone since: not created again on connect
    assert list(path.parent.iterdir()) == []


APP = """
import logging
import sys
from pathlib import Path

import flask

from flask_modular_login import config, login_optional

# Installed from a directory that is no checkout with keys (the package root, simulated).
config.PACKAGE_DIR = Path(sys.argv[1]) / "site-packages" / "flask_modular_login"
logging.basicConfig(level=logging.INFO)

app = flask.Flask(__name__)


@app.route("/profile_api")
@login_optional(kw="user")
def profile(user=None):
    return {"user": user}


client = app.test_client()
for _ in range(3):
    answer = client.get("/profile_api", headers={"Accept": "application/json"})
    print(answer.status_code, answer.json["error"])
print(client.get("/profile_api").status_code)
"""


def test_a_client_app_in_its_own_empty_directory_in_a_fresh_process(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    env = {key: value for key, value in __import__("os").environ.items()
           if key != "LOGIN_RUN_DIR"}
    done = subprocess.run([sys.executable, str(tmp_path / "app.py"), str(tmp_path)],
                          cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:4] == ["503 run_dir_not_found"] * 3 + ["503"]
    assert done.stderr.count("LOGIN_RUN_DIR") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert list(project.iterdir()) == [], "no run/ and no users.db in the app's directory"
