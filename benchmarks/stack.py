"""The processes of a deployment, started on 127.0.0.1 for the soak and load benchmarks.

benchmarks/soak.py and benchmarks/load.py run what ``sh server.sh start`` runs: the login
service under uwsgi behind nginx, the channel process (``python -m flask_modular_login
channel``), and a client app (``LoginBuilder`` under its own uwsgi); the pieces come from
benchmarks/deployment.py (uwsgi, nginx) and benchmarks/channel.py (RSS, raw websockets).
Also what the benchmarks read of a process (RSS, open files) and a small HTTP browser
(one keep-alive connection, a cookie jar, the ``test`` provider's login).
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import environment  # benchmarks/environment.py

environment.prepare()

import deployment  # noqa: E402  (benchmarks/deployment.py)
from deployment import ROOT, _children, free_port, nginx, uwsgi  # noqa: E402

import flask_modular_login  # noqa: E402
from channel import rss  # noqa: E402  (benchmarks/channel.py)
from flask_modular_login import keystore  # noqa: E402
from flask_modular_login.core import leases  # noqa: E402
from flask_modular_login.core.verifier import LeaseVerifier  # noqa: E402

HOST = "127.0.0.1"
CLI = [sys.executable, "-m", "flask_modular_login"]

__all__ = ["require_programs", "Stack", "Browser", "Answer", "rss", "open_files",
           "workers_of", "cli", "channel_process", "service_env", "expired_token", "HOST",
           "free_port", "nginx", "uwsgi", "ROOT"]


# --------------------------------------------------------------------------- processes


def require_programs() -> None:
    """Exit with a message if nginx or uwsgi is missing."""
    for path, what in ((deployment.NGINX, "nginx"), (deployment.UWSGI, "uwsgi"),
                       (deployment.UWSGI_PARAMS, "nginx's uwsgi_params")):
        deployment.require(path, what)


def service_env(run_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of every process of the stack: one run dir, the ``test`` provider
    (``LOGIN_DEBUG``), the package's source on the path."""
    source = str(Path(flask_modular_login.__file__).resolve().parents[1])
    env = {**os.environ, "LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))}
    if database_url:
        env["LOGIN_DATABASE_URL"] = database_url
    return env


def cli(env: dict[str, str], *args: str) -> str:
    """``python -m flask_modular_login ARGS``; its output."""
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"flask_modular_login {' '.join(args)}: {done.stdout}{done.stderr}")
    return done.stdout.strip()


@contextlib.contextmanager
def channel_process(env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    """``python -m flask_modular_login channel`` on a free port of 127.0.0.1: (process,
    port), once it listens; stopped (TERM, then KILL) afterwards."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen([*CLI, "channel", "--host", HOST, "--port", str(port)],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the channel process exited ({process.returncode}); see {log}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"the channel process did not listen within 30 s; see {log}")
            time.sleep(0.05)
        yield process, port
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def workers_of(master: int, count: int = 1, timeout: float = 30) -> list[int]:
    """The ``count`` workers of the uwsgi ``master`` (where the app lives: ``--lazy-apps``)."""
    deadline = time.monotonic() + timeout
    while True:
        children = _children(master)
        if len(children) >= count:
            return sorted(children)
        if time.monotonic() > deadline:
            raise SystemExit(f"uwsgi {master} has {len(children)} workers, not {count}")
        time.sleep(0.05)


def open_files(pid: int) -> int:
    """How many file descriptors process ``pid`` holds open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class Stack:
    """The running processes: ports and pids."""

    run_dir: Path
    env: dict[str, str]
    service_port: int  # nginx -> the login service's uwsgi
    app_port: int  # nginx -> the client app's uwsgi
    channel_port: int
    pids: dict[str, list[int]]  # "service", "client app", "channel": the processes measured

    @property
    def service_url(self) -> str:
        return f"http://{HOST}:{self.service_port}"

    @property
    def channel_uri(self) -> str:
        return f"ws://{HOST}:{self.channel_port}"

    @classmethod
    @contextlib.contextmanager
    def run(cls, tmp: Path, service_threads: int = 1, service_processes: int = 1,
            database_url: str | None = None) -> Iterator[Stack]:
        """Init a run dir in ``tmp``, start the service (uwsgi, ``service_processes``
        processes of ``service_threads`` threads), the client app (uwsgi, one process, one
        thread), nginx in front of both, and the channel process."""
        os.chmod(tmp, 0o755)  # nginx's workers reach the sockets (the run dir stays 0700)
        for sub in ("sockets", "logs", "nginx"):
            (tmp / sub).mkdir(mode=0o777)
            os.chmod(tmp / sub, 0o777)
        run_dir = tmp / "run"
        env = service_env(run_dir, database_url)
        cli(env, "init")
        sockets, logs = tmp / "sockets", tmp / "logs"
        service_env_only = {k: v for k, v in env.items() if k.startswith(("LOGIN_", "PYTHON"))}
        with contextlib.ExitStack() as stack:
            service_sock, service_master = stack.enter_context(uwsgi(
                "service", sockets, logs,
                ["--module", "flask_modular_login.server.wsgi:application"],
                service_env_only, threads=service_threads, processes=service_processes))
            app_sock, app_master = stack.enter_context(uwsgi(
                "client-app", sockets, logs,
                ["--wsgi-file", str(ROOT / "benchmarks" / "wsgi_variants.py")],
                {"BENCH_VARIANT": "ours", "BENCH_RUN_DIR": str(run_dir),
                 **{k: v for k, v in service_env_only.items() if k == "PYTHONPATH"}}))
            ports = {"service": free_port(), "app": free_port()}
            stack.enter_context(nginx(tmp / "nginx", {ports["service"]: service_sock,
                                                      ports["app"]: app_sock}))
            channel, channel_port = stack.enter_context(
                channel_process(env, logs / "channel.log"))
            pids = {"service": workers_of(service_master, service_processes),
                    "client app": workers_of(app_master), "channel": [channel.pid]}
            yield cls(run_dir, env, ports["service"], ports["app"], channel_port, pids)


# --------------------------------------------------------------------------- HTTP


@dataclass
class Answer:
    status: int
    body: bytes
    set_cookies: list[str]

    def json(self) -> Any:
        return json.loads(self.body)


JSON = {"Accept": "application/json"}
CSRF_FIELD = re.compile(rb'name="csrf_token"\s+value="([^"]+)"')


class Browser:
    """One keep-alive HTTP connection to ``HOST:port`` and a cookie jar (names and values:
    the attributes are ignored; a cookie set empty or with ``Max-Age=0`` is dropped). Not
    thread-safe: one per thread."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None
        self._connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None,
                cookies: dict[str, str] | None = None) -> Answer:
        """Send one request; a reused connection the server closed meanwhile (nginx's
        ``keepalive_requests``) is opened again once, before anything was sent."""
        jar = self.cookies if cookies is None else cookies
        sent = dict(headers or {})
        if jar:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in jar.items())
        for attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = http.client.HTTPConnection(HOST, self.port,
                                                              timeout=self.timeout)
            try:
                self._connection.request(method, path, body=body, headers=sent)
                response = self._connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if reused and attempt == 1:
                    continue
                raise
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            set_cookies = response.headers.get_all("Set-Cookie") or []
            if cookies is None:
                self._remember(set_cookies)
            return Answer(response.status, data, set_cookies)
        raise AssertionError("unreachable")

    def _remember(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            pair, _, attributes = header.partition(";")
            name, _, value = pair.strip().partition("=")
            gone = not value or "max-age=0" in attributes.lower().replace(" ", "")
            if gone:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def get(self, path: str, headers: dict[str, str] | None = None,
            cookies: dict[str, str] | None = None) -> Answer:
        return self.request("GET", path, headers=headers, cookies=cookies)

    def post_json(self, path: str, body: object) -> Answer:
        """A JSON POST with this browser's CSRF token (fetched once per login)."""
        if self.csrf is None:
            listing = self.get("/login/access/invite", JSON)
            if listing.status != 200:
                raise RuntimeError(f"csrf token: GET /login/access/invite {listing.status}")
            self.csrf = listing.json()["csrf_token"]
        return self.request("POST", path, json.dumps(body).encode(),
                            {**JSON, "Content-Type": "application/json",
                             "X-CSRF-Token": self.csrf})

    def login(self, username: str) -> None:
        """Log in through the ``test`` provider (its form, its CSRF field)."""
        page = self.get("/login/test/")
        found = CSRF_FIELD.search(page.body)
        if page.status != 200 or found is None:
            raise RuntimeError(f"test login page: {page.status}, no csrf_token")
        form = urlencode({"username": username, "csrf_token": found.group(1).decode()})
        done = self.request("POST", "/login/test/", form.encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})
        if done.status not in (200, 302, 303) or not self.cookies.get("login"):
            raise RuntimeError(f"test login: {done.status}, no login cookie")
        self.csrf = None  # a login starts a new service session

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def expired_token(token: str, keys: keystore.Keys) -> str:
    """The same lease, signed again as run out a minute ago: the service renews it."""
    lease = LeaseVerifier(lambda: keys.ring).lease(token)
    now = int(time.time())
    return leases.issue(dataclasses.replace(lease, issued_at=now - 120, expires_at=now - 60),
                        keys.signing)
