"""Remote client apps as real processes on 127.0.0.1, in a directory without ``run/``: the
login service, the channel server, a Flask app (RemoteLoginBuilder) and an aiohttp app
(RemoteLoginInterface with the original README's hooks). A logout reaches both at once;
a revocation made while the channel is down (killed with SIGKILL) reaches both once it
is back."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess

import pytest
import requests

from tests.support.servers import ROOT, free_port, python, running, until

FLASK_APP = ROOT / "examples/remote_client_app.py"
AIOHTTP_APP = ROOT / "examples/remote_aiohttp_app.py"


def add_client(env: dict[str, str], name: str) -> str:
    done = subprocess.run(python("-m", "flask_modular_login", "clients", "add", name),
                          env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    import os

    run_dir = tmp_path_factory.mktemp("run")
    elsewhere = tmp_path_factory.mktemp("remote-host")  # no run/, no database
    ports = {name: free_port() for name in ("service", "channel", "flask", "aiohttp")}
    env = {**os.environ, "LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": "1"}
    service = running(python("-m", "flask_modular_login", "serve", "--debug",
                             "--port", str(ports["service"])), ports["service"], env)
    with contextlib.ExitStack() as stack:
        stack.enter_context(service)
        credentials = {name: add_client(env, name) for name in ("flask-app", "aio-app")}
        channel_args = python("-m", "flask_modular_login", "channel",
                              "--port", str(ports["channel"]))
        channel = stack.enter_context(running(channel_args, ports["channel"], env))
        remote_env = {key: value for key, value in os.environ.items()
                      if not key.startswith("LOGIN_")}
        remote_env.update(LOGIN_SERVICE_URL=f"http://127.0.0.1:{ports['service']}",
                          LOGIN_CHANNEL_URI=f"ws://127.0.0.1:{ports['channel']}")
        for name, app, credential in (("flask", FLASK_APP, credentials["flask-app"]),
                                      ("aiohttp", AIOHTTP_APP, credentials["aio-app"])):
            stack.enter_context(running(
                python(str(app)), ports[name],
                {**remote_env, "PORT": str(ports[name]), "LOGIN_CHANNEL_CREDENTIAL": credential},
                cwd=elsewhere))
        yield {"ports": ports, "env": env, "channel": channel, "channel_args": channel_args,
               "stack": stack, "run_dir": run_dir, "elsewhere": elsewhere}
    assert not (elsewhere / "run").exists(), "remote apps create nothing on their host"


def urls(world) -> dict[str, str]:
    return {name: f"http://127.0.0.1:{port}" for name, port in world["ports"].items()}


def log_in(world, username: str) -> requests.Session:
    browser = requests.Session()
    service = urls(world)["service"]
    form = browser.get(f"{service}/login/test/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    done = browser.post(f"{service}/login/test/", data={"username": username,
                                                        "csrf_token": csrf},
                        allow_redirects=False)
    assert done.status_code == 302 and browser.cookies.get("login")
    return browser


def sees(world, browser: requests.Session) -> dict[str, object]:
    """What each remote app makes of this browser's cookie: the name, or None."""
    found = urls(world)
    flask_answer = browser.get(f"{found['flask']}/hidden", allow_redirects=False,
                               headers={"Accept": "application/json"})
    aio_answer = browser.get(f"{found['aiohttp']}/")
    name = re.search(r"'name': '([^']+)'", aio_answer.text)
    return {"flask": flask_answer.json().get("hello") if flask_answer.status_code == 200
            else None,
            "aiohttp": name.group(1) if name else None}


def log_out(world, browser: requests.Session) -> None:
    service = urls(world)["service"]
    csrf = browser.get(f"{service}/login/sessions").json()["csrf_token"]
    cookie = browser.cookies.get("login")
    assert browser.post(f"{service}/login/logout", headers={"X-CSRF-Token": csrf,
                        "Accept": "application/json"}).status_code == 200
    browser.cookies.set("login", cookie)  # the cookie a thief kept


def test_both_remote_apps_see_the_user_and_refuse_after_logout(world):
    browser = log_in(world, "alice")
    until(lambda: sees(world, browser) == {"flask": "alice", "aiohttp": "alice"}, 15,
          "both remote apps did not see alice")
    log_out(world, browser)
    took = until(lambda: sees(world, browser) == {"flask": None, "aiohttp": None}, 5,
                 "both remote apps did not refuse the ended session")
    assert took < 1.0, f"a logout reached the remote apps after {took:.2f} s"


def test_a_revocation_while_the_channel_is_down_is_caught_up(world):
    browser = log_in(world, "bob")
    until(lambda: sees(world, browser) == {"flask": "bob", "aiohttp": "bob"}, 15,
          "both remote apps did not see bob")
    world["channel"].send_signal(signal.SIGKILL)
    world["channel"].wait(10)
    log_out(world, browser)
    assert sees(world, browser) == {"flask": "bob", "aiohttp": "bob"}, (
        "while the channel is down, a valid lease keeps working until it ends")
    world["stack"].enter_context(running(world["channel_args"], world["ports"]["channel"],
                                         world["env"]))
    until(lambda: sees(world, browser) == {"flask": None, "aiohttp": None}, 40,
          "the remote apps did not catch up with the revocation after the restart")
