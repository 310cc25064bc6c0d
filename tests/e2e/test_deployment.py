"""The deployment path: ``sh server.sh start`` (uwsgi on a unix socket) behind a real nginx."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest
import requests

from tests.channel.harness import wait_until
from tests.support.deployment import NGINX, nginx_conf, require, server_sh
from tests.support.logs import CODE, SECRET_PATHS, secrets_in
from tests.support.servers import ROOT, free_port, running


@pytest.fixture
def uwsgi_service(tmp_path):
    require(str(Path(sys.prefix) / "bin" / "uwsgi"), "uwsgi")
    run_dir = tmp_path / "run"
    env = {"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": "1", "VENV": sys.prefix,
           "LOGIN_CHANNEL_PORT": str(free_port())}
    started = server_sh("start", env)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield run_dir, env
    finally:
        stopped = server_sh("stop", env)
        assert stopped.returncode == 0, stopped.stderr


def test_uwsgi_behind_nginx_serves_the_login_service(uwsgi_service, tmp_path):
    require(NGINX, "nginx")
    run_dir, _ = uwsgi_service
    pid = int((run_dir / "uwsgi.pid").read_text())
    os.kill(pid, 0)
    port = free_port()
    conf = nginx_conf(tmp_path, port, run_dir / "sockets" / "uwsgi.sock")
    with running([NGINX, "-c", str(conf)], port):
        base = f"http://127.0.0.1:{port}"
        browser = requests.Session()
        assert browser.get(f"{base}/login/view/sessions", allow_redirects=False).status_code == 302
        form = browser.get(f"{base}/login/test/")
        csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        done = browser.post(f"{base}/login/test/", data={"username": "nginx-user",
                                                          "csrf_token": csrf})
        assert done.status_code == 200 and "nginx-user" in done.text
        assert (run_dir / "keys").stat().st_mode & 0o777 == 0o700


def documented_nginx_logging(access_log: Path) -> str:
    """The nginx log configuration of docs/deployment.md, writing to ``access_log``."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    [block] = [b.split("\n", 1)[1] for b in text.split("```nginx")[1:] if "log_format" in b]
    block = block.split("```", 1)[0]
    assert "/var/log/nginx/access.log" in block
    return block.replace("/var/log/nginx/access.log", str(access_log))


def test_request_logs_of_uwsgi_and_nginx_hold_no_invite_code(uwsgi_service, tmp_path):
    require(NGINX, "nginx")
    run_dir, env = uwsgi_service
    port, access_log = free_port(), tmp_path / "nginx-access.log"
    conf = nginx_conf(tmp_path, port, run_dir / "sockets" / "uwsgi.sock",
                      documented_nginx_logging(access_log))
    with running([NGINX, "-c", str(conf)], port):
        base = f"http://127.0.0.1:{port}"
        accept = f"{base}/login/access/accept/{CODE}"
        for path in SECRET_PATHS:
            requests.get(base + path, allow_redirects=False, headers={"Referer": accept})
    stopped = server_sh("stop", env)  # uwsgi has written every line once it is gone
    assert stopped.returncode == 0, stopped.stderr
    uwsgi_log = (run_dir / "uwsgi.log").read_text()
    requests_logged = [line for line in uwsgi_log.splitlines() if " GET /login/" in line]
    assert len(requests_logged) == len(SECRET_PATHS), uwsgi_log
    assert secrets_in(uwsgi_log) == [], uwsgi_log
    assert any("GET /login/access/accept/*** " in line for line in requests_logged)
    nginx_log = access_log.read_text()
    assert len(nginx_log.splitlines()) == len(SECRET_PATHS), nginx_log
    assert secrets_in(nginx_log) == [], nginx_log
    assert '"GET /login/access/accept/*** HTTP/1.1"' in nginx_log


def test_start_runs_uwsgi_and_the_channel_status_tells_and_stop_ends_both(tmp_path):
    require(str(Path(sys.prefix) / "bin" / "uwsgi"), "uwsgi")
    port = free_port()
    env = {"LOGIN_RUN_DIR": str(tmp_path / "run"), "VENV": sys.prefix,
           "LOGIN_CHANNEL_PORT": str(port)}
    assert server_sh("start", env).returncode == 0
    pid_files = [tmp_path / "run" / f"{name}.pid" for name in ("uwsgi", "channel")]
    pids = [int(path.read_text()) for path in pid_files]
    with socket.create_connection(("127.0.0.1", port), 2):
        pass  # the channel listens
    status = server_sh("status", env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"uwsgi: running (pid {pids[0]})" in status.stdout
    assert f"channel: running (pid {pids[1]})" in status.stdout
    assert "service: up at unix:" in status.stdout
    assert "(database up, signing_key up)" in status.stdout
    assert f"channel: up at ws://127.0.0.1:{port}" in status.stdout
    again = server_sh("start", env)
    assert again.returncode == 0 and "already running" in again.stdout
    assert server_sh("stop", env).returncode == 0
    assert not any(path.exists() for path in pid_files)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    down = server_sh("status", env)
    assert down.returncode != 0
    assert "uwsgi: NOT running" in down.stdout and "service: unreachable" in down.stdout


def test_status_names_the_part_that_is_down(tmp_path):
    require(str(Path(sys.prefix) / "bin" / "uwsgi"), "uwsgi")
    run_dir = tmp_path / "run"
    env = {"LOGIN_RUN_DIR": str(run_dir), "VENV": sys.prefix,
           "LOGIN_CHANNEL_PORT": str(free_port())}
    assert server_sh("start", env).returncode == 0
    try:
        log = run_dir / "uwsgi.log"  # lazy-apps: each worker loads the app (and keys) itself
        wait_until(lambda: log.read_text().count("WSGI app 0 (mountpoint='') ready") == 2,
                   timeout=60, what="both uwsgi workers loading the app")
        for key in (run_dir / "keys").glob("*.pem"):
            key.unlink()  # the running service could no longer sign after a restart
        status = server_sh("status", env)
        assert status.returncode != 0
        assert "service: DOWN" in status.stdout and "signing_key down" in status.stdout
        assert "channel: up" in status.stdout
    finally:
        assert server_sh("stop", env).returncode == 0
