"""Two login-service hosts, each with its own channel, sharing one PostgreSQL and one
memcached: real processes on 127.0.0.1 (docs/deployment.md, "Several hosts").

Host A and host B hold the same key set and Flask secret (copied, as an operator
does); everything else they share goes through the database and memcached. A logout
made through A reaches a remote client connected to B's channel within 100 ms; a
session started on A renews on B; the short-code rate limit counts across both; when
host A dies, a remote client given both channels carries on through B, and B's own
clients never notice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from flask_modular_login import keystore
from flask_modular_login.client.remote import RemoteLoginInterface
from flask_modular_login.core import leases
from flask_modular_login.core.verifier import LeaseVerifier
from flask_modular_login.server.invitations.accept import USER_LIMIT as USER_LIMIT_AND_WINDOW
from tests.support.memcached import running_memcached
from tests.support.postgres import running_postgres
from tests.support.servers import ROOT, free_port, python, running, until

USER_LIMIT = USER_LIMIT_AND_WINDOW[0]  # short-code attempts per user


@dataclass
class Host:
    name: str
    env: dict[str, str]
    http: int
    channel: int
    processes: dict[str, subprocess.Popen]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http}"

    @property
    def channel_uri(self) -> str:
        return f"ws://127.0.0.1:{self.channel}"

    @property
    def run_dir(self) -> Path:
        return Path(self.env["LOGIN_RUN_DIR"])


@dataclass
class Cluster:
    a: Host
    b: Host
    credential: str


def share_secrets(source: Path, target: Path) -> None:
    """What every host of one deployment holds alike: the key set and the Flask secret."""
    keystore.ensure_private_dir(target)
    shutil.copytree(source / "keys", target / "keys")
    shutil.copy2(source / "flask_secret", target / "flask_secret")


@contextlib.contextmanager
def host(stack: contextlib.ExitStack, name: str, env: dict[str, str]) -> Iterator[Host]:
    ports = {"http": free_port(), "channel": free_port()}
    serve = stack.enter_context(running(
        python("-m", "flask_modular_login", "serve", "--debug", "--port", str(ports["http"])),
        ports["http"], env))
    channel = stack.enter_context(running(
        python("-m", "flask_modular_login", "channel", "--port", str(ports["channel"])),
        ports["channel"], env))
    yield Host(name, env, ports["http"], ports["channel"], {"serve": serve, "channel": channel})


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("hosts")
    with contextlib.ExitStack() as stack:
        postgres = stack.enter_context(running_postgres())
        memcached = stack.enter_context(running_memcached())
        shared = {**os.environ, "LOGIN_DATABASE_URL": postgres.database(),
                  "LOGIN_MEMCACHED": memcached.spec, "LOGIN_DEBUG": "1"}
        env_a = {**shared, "LOGIN_RUN_DIR": str(root / "a")}
        env_b = {**shared, "LOGIN_RUN_DIR": str(root / "b")}
        a = stack.enter_context(host(stack, "a", env_a))
        share_secrets(root / "a", root / "b")
        b = stack.enter_context(host(stack, "b", env_b))
        added = subprocess.run(python("-m", "flask_modular_login", "clients", "add", "app"),
                               env=env_a, cwd=ROOT, capture_output=True, text=True, check=True)
        yield Cluster(a, b, added.stdout.strip())


def login(service: Host, username: str) -> requests.Session:
    """A browser logged in through ``service``'s test provider."""
    browser = requests.Session()
    form = browser.get(f"{service.url}/login/test/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    done = browser.post(f"{service.url}/login/test/", allow_redirects=False,
                        data={"username": username, "csrf_token": csrf})
    assert done.status_code == 302, done.text
    return browser


def remote_client(cluster: Cluster, *hosts: Host) -> RemoteLoginInterface:
    interface = RemoteLoginInterface(hosts[0].url, [h.channel_uri for h in hosts],
                                     cluster.credential)
    assert interface.channel.wait_ready(10), "the remote client did not connect"
    return interface


def test_a_logout_through_a_reaches_a_remote_client_of_b_within_100_ms(cluster):
    interface = remote_client(cluster, cluster.b)
    try:
        delays = []
        for number in range(5):
            browser = login(cluster.a, f"walker{number}")
            token = browser.cookies.get("login")
            assert interface.authenticate(token).user["name"] == f"walker{number}"
            csrf = browser.get(f"{cluster.a.url}/login/sessions").json()["csrf_token"]
            session_id = interface.verifier.lease(token).session_id
            start = time.monotonic()
            assert browser.post(f"{cluster.a.url}/login/logout",
                                data={"csrf_token": csrf}).ok
            until(lambda sid=session_id: sid in interface.feed.revoked, 2,
                  "the logout reaching B's client")
            delays.append(time.monotonic() - start)
            assert interface.authenticate(token).user is None
        assert max(delays) < 0.1, f"logout to refusal on the other host: {delays}"
    finally:
        interface.close()


def test_a_session_started_on_a_renews_on_b(cluster):
    browser = login(cluster.a, "roamer")
    keys = keystore.load(cluster.b.run_dir / "keys")  # the shared set
    lease = LeaseVerifier(lambda: keys.ring).lease(browser.cookies.get("login"))
    now = int(time.time())
    expired = dataclasses.replace(lease, issued_at=now - 120, expires_at=now - 60)
    answer = requests.get(f"{cluster.b.url}/login/me",
                          cookies={"login": leases.issue(expired, keys.signing)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["name"] == "roamer"
    assert answer.json()["lease_expires_at"] > now
    assert "login=" in answer.headers["Set-Cookie"]


def test_the_short_code_limit_counts_across_both_hosts(cluster):
    browser = login(cluster.a, "guesser")  # the same cookies serve both hosts
    csrf = browser.get(f"{cluster.a.url}/login/sessions").json()["csrf_token"]
    answers = []
    for attempt in range(2 * USER_LIMIT):
        service = (cluster.a, cluster.b)[attempt % 2]
        answers.append(browser.post(f"{service.url}/login/access/code",
                                    headers={"X-CSRF-Token": csrf},
                                    json={"code": "ZZZZZZZZ"}).status_code)
    assert answers[:USER_LIMIT] == [404] * USER_LIMIT, answers
    assert answers[USER_LIMIT:] == [429] * USER_LIMIT, f"counted per host: {answers}"


def test_when_host_a_dies_its_clients_move_to_b_and_bs_clients_carry_on(cluster):
    """Last of the module: host A stays dead."""
    both = remote_client(cluster, cluster.a, cluster.b)
    b_only = remote_client(cluster, cluster.b)
    try:
        assert both.channel.address.uri == cluster.a.channel_uri
        for process in cluster.a.processes.values():
            process.send_signal(signal.SIGKILL)
        until(lambda: both.channel.ready and both.channel.address.uri == cluster.b.channel_uri,
              5, "A's client moving to B's channel")
        browser = login(cluster.b, "survivor")
        token = browser.cookies.get("login")
        for interface in (both, b_only):
            assert interface.authenticate(token).user["name"] == "survivor"
        csrf = browser.get(f"{cluster.b.url}/login/sessions").json()["csrf_token"]
        assert browser.post(f"{cluster.b.url}/login/logout", data={"csrf_token": csrf}).ok
        session_id = both.verifier.lease(token).session_id
        until(lambda: all(session_id in i.feed.revoked for i in (both, b_only)), 2,
              "the logout through B reaching both clients")
    finally:
        both.close()
        b_only.close()
