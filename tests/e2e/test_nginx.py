"""The shipped nginx site (deploy/nginx.conf) with workers that are not root: the login
service over uwsgi's socket, the channel as a websocket, a client app over HTTP, one cookie.

A real nginx (master as the test's user; as root, its workers run as ``www-data``),
uwsgi and the channel started by ``sh server.sh start`` with ``LOGIN_SOCKET_GROUP`` set to
the workers' group, and a client app process. If the workers could not reach
``uwsgi.sock``, every ``/login/`` request would be a 502.
"""

from __future__ import annotations

import grp
import http.client
import json
import os
import pwd
import shutil
import stat
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from websockets.sync.client import connect

from tests.channel.harness import wait_until
from tests.support.deployment import NGINX, require, server_sh
from tests.support.servers import ROOT, free_port, python, running

SITE = ROOT / "deploy" / "nginx.conf"
FORGED = {"X-Forwarded-For": "6.6.6.6"}


def worker_user() -> tuple[str | None, str]:
    """(the ``user`` nginx's workers switch to, or None when not root; their group)."""
    if os.getuid() != 0:
        return None, grp.getgrgid(os.getgid()).gr_name
    for name in ("www-data", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return name, grp.getgrgid(entry.pw_gid).gr_name
    pytest.fail("no www-data or nobody user to run nginx's workers as")


@pytest.fixture
def base() -> Iterator[Path]:
    """A directory the workers' user may pass through (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="login-nginx-", dir="/tmp"))
    os.chmod(path, 0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def site(socket_dir: Path, channel_port: int, client_port: int, access_log: Path,
         port: int) -> str:
    """deploy/nginx.conf with this test's addresses in place of the documented ones."""
    text = SITE.read_text()
    for documented, actual in (("/srv/login/run/sockets", str(socket_dir)),
                               ("127.0.0.1:8001", f"127.0.0.1:{channel_port}"),
                               ("127.0.0.1:5000", f"127.0.0.1:{client_port}"),
                               ("/var/log/nginx/access.log", str(access_log)),
                               ("listen 80;", f"listen 127.0.0.1:{port};")):
        assert documented in text, documented
        text = text.replace(documented, actual)
    return text


def main_conf(directory: Path, user: str | None, site_file: Path) -> Path:
    shutil.copy("/etc/nginx/uwsgi_params", directory / "uwsgi_params")  # `include` is relative
    conf = directory / "nginx.conf"
    conf.write_text(textwrap.dedent(f"""
        {f"user {user};" if user else ""}
        worker_processes 1;
        daemon off;
        pid {directory}/nginx.pid;
        error_log {directory}/error.log;
        events {{ worker_connections 64; }}
        http {{
            client_body_temp_path {directory}/body;
            proxy_temp_path {directory}/proxy;
            fastcgi_temp_path {directory}/fastcgi;
            uwsgi_temp_path {directory}/uwsgi;
            scgi_temp_path {directory}/scgi;
            include {site_file};
        }}
    """))
    return conf


def worker_uids(master: int) -> list[int]:
    uids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("PPid", "0").strip()) == master:
            uids.append(int(fields["Uid"].split()[0]))
    return uids


def client_get(port: int, path: str, cookie: str, source: str) -> dict:
    """GET through nginx from the local address ``source`` (so nginx's peer differs from the
    client app's peer, nginx at 127.0.0.1), with a forged X-Forwarded-For."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                      source_address=(source, 0))
    try:
        conn.request("GET", path, headers={"Cookie": f"login={cookie}", **FORGED})
        answer = conn.getresponse()
        assert answer.status == 200, answer.status
        return json.loads(answer.read())
    finally:
        conn.close()


def test_a_login_walks_through_nginx_whose_workers_are_not_root(base):
    require(NGINX, "nginx")
    require(str(Path(sys.prefix) / "bin" / "uwsgi"), "uwsgi")
    user, group = worker_user()
    run_dir, socket_dir = base / "run", base / "run" / "sockets"
    channel_port, client_port, port = free_port(), free_port(), free_port()
    env = {"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": "1", "VENV": sys.prefix,
           "LOGIN_CHANNEL_PORT": str(channel_port), "LOGIN_SOCKET_GROUP": group,
           "LOGIN_TRUSTED_PROXIES": "1"}
    started = server_sh("start", env)
    assert started.returncode == 0, started.stdout + started.stderr
    nginx_dir = base / "nginx"
    nginx_dir.mkdir(mode=0o711)
    try:
        # keys stay private; the workers' group only passes through run/ into sockets/
        assert stat.S_IMODE((run_dir / "keys").stat().st_mode) == 0o700
        assert stat.S_IMODE(run_dir.stat().st_mode) == 0o710
        assert grp.getgrgid(socket_dir.stat().st_gid).gr_name == group
        assert stat.S_IMODE((socket_dir / "uwsgi.sock").stat().st_mode) == 0o660
        site_file = nginx_dir / "site.conf"
        site_file.write_text(site(socket_dir, channel_port, client_port,
                                  nginx_dir / "access.log", port))
        client_env = {**env, "PORT": str(client_port)}
        with running(python("tests/support/proxied_app.py"), client_port, client_env), \
                running([NGINX, "-c", str(main_conf(nginx_dir, user, site_file))],
                        port) as nginx:
            if user is not None:  # the master listens before it starts its workers
                wait_until(lambda: worker_uids(nginx.pid), what="nginx's worker starting")
                uids = worker_uids(nginx.pid)
                assert all(uid == pwd.getpwnam(user).pw_uid != 0 for uid in uids), uids
            cookie = walk_a_login(port)
    finally:
        stopped = server_sh("stop", env)
        assert stopped.returncode == 0, stopped.stderr
    log = (nginx_dir / "access.log").read_text()
    assert '"GET /login/test/ HTTP/1.1" 200' in log and "csrf" not in log
    uwsgi_log = (run_dir / "uwsgi.log").read_text()  # the security log, under uwsgi
    assert "flask_modular_login.security: event=login user_id=" in uwsgi_log
    assert "provider=test ip=127.0.0.1" in uwsgi_log and cookie not in uwsgi_log


def walk_a_login(port: int) -> str:
    """Log in through nginx, then use the client app and the channel; the lease cookie."""
    base = f"http://127.0.0.1:{port}"
    browser = requests.Session()
    bounced = browser.get(f"{base}/app/whoami", allow_redirects=False)
    assert bounced.status_code == 302 and "/login/" in bounced.headers["Location"]
    form = browser.get(f"{base}/login/test/", headers=FORGED)
    assert form.status_code == 200, f"{form.status_code}: nginx's workers cannot reach uwsgi"
    csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = browser.post(f"{base}/login/test/", headers=FORGED,
                        data={"username": "nginx-user", "csrf_token": csrf})
    assert done.status_code == 200 and "nginx-user" in done.text
    cookie = browser.cookies["login"]
    # the service believes nginx's last hop (the peer), not the forged address
    [session] = browser.get(f"{base}/login/sessions", headers=FORGED).json()["sessions"]
    assert session["ip"] == "127.0.0.1"
    # the client app sees the user, and the client's address from X-Forwarded-For
    me = client_get(port, "/app/whoami", cookie, source="127.0.0.5")
    assert me == {"name": "nginx-user", "ip": "127.0.0.5", "scheme": "http"}
    # the channel answers its websocket through nginx
    with connect(f"ws://127.0.0.1:{port}/login/channel", open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
    assert browser.get(f"{base}/login/metrics").status_code == 403
    assert browser.get(f"{base}/login/health").json()["status"] == "up"
    return cookie
