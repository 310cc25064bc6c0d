"""The channel suite: client apps on other hosts, over the websocket channel, on 127.0.0.1.

Run from the repository root with the project's virtual environment::

    python benchmarks/channel.py            # or: python benchmarks/run.py --suite channel
    python benchmarks/channel.py --quick    # well under a minute
    python benchmarks/channel.py --check    # exit 1 if a target is missed

Four measures, in one run, each against its target:

1. a request with a valid lease on a remote client app (``RemoteLoginBuilder`` over a real
   channel and real HTTP JWKS) against a bare Flask route, side by side with the local
   ``LoginBuilder``, through the Flask test client in interleaved rounds (as the login
   suite); no RPC may happen on that path: **>= 0.90 of bare**;
2. a lease renewal over the channel (``interface.renewer.renew``, and a GET that renews),
   the clock advanced past the lease before each one: **p99 <= 5 ms**;
3. a logout on the service (``services.sessions.end``) until 50 connected remote clients
   all hold the session in their revocation sets: **p99 <= 50 ms**;
4. the memory of a channel process (``python -m flask_modular_login channel``, its own
   process) per authenticated websocket connection, 1,000 of them: **<= 50 KB each**.

Measures 1-3 run the login service (HTTP, for the JWKS) and the ``ChannelServer`` in
threads of this process, over one SQLite store in a temporary run dir. See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import math
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import environment  # benchmarks/environment.py
from route import PATH, check_page, check_protected, timed_batch, timed_round  # route.py

environment.prepare()

import flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from websockets.asyncio.client import ClientConnection as WebSocket  # noqa: E402
from websockets.asyncio.client import connect as websocket_connect  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

import flask_modular_login  # noqa: E402
from flask_modular_login import (  # noqa: E402
    LocalLoginInterface,
    LoginBuilder,
    RemoteLoginBuilder,
    RemoteLoginInterface,
    create_app,
)
from flask_modular_login.channel.server import ChannelServer  # noqa: E402
from flask_modular_login.core.leases import Issued  # noqa: E402
from flask_modular_login.core.protocol.auth import (  # noqa: E402
    NONCE_BYTES,
    new_credential,
    parse_credential,
)
from flask_modular_login.core.protocol.connection import (  # noqa: E402
    ClientConnection,
    Send,
    Welcomed,
)

TARGET_REQUEST = 0.90  # remote client request with a valid lease / bare Flask route
TARGET_RENEW_P99_MS = 5.0
TARGET_LOGOUT_P99_MS = 50.0
TARGET_MEMORY_BYTES = 50_000  # per connected client (50 KB, 1 KB = 1,000 bytes)
HOST = "127.0.0.1"
LOGOUT_POLL = 0.0002  # seconds between two looks at the 50 feeds while waiting
ROTATE = 1000  # renewals per session (the clock moves 901 s each; sessions last 30 days)
RENEWING_APPS = 4  # remote apps taking turns in the renewal measure
RPC_RATE = 150.0  # messages a second per connection at most there (the channel allows 200)
WARMUP_CONNECTIONS = 20  # memory: a burst opened and closed before "before" is read

Client = FlaskClient
Progress = Callable[[str], None]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p99 of 200 samples: the 198th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def quiet(_line: str) -> None:
    pass


# --------------------------------------------------------------------------- the world


class Clock:
    """Real time plus an offset that only grows: advancing it makes leases run out for real
    (the service signs, renews and ends sessions on this clock; the interfaces check on it)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class ChannelThread:
    """A :class:`ChannelServer` on its own event loop in a daemon thread, on 127.0.0.1:0."""

    def __init__(self, server: ChannelServer) -> None:
        self.server = server
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="bench-channel")

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve(HOST, 0))
        except BaseException as error:  # reported by start()/stop()
            self.error = error

    def start(self) -> ChannelThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.listening.is_set():
            if self.error is not None:
                raise self.error
            if time.monotonic() > deadline:
                raise RuntimeError("the channel server did not start listening within 10 s")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self.server.stop()
        self._thread.join(15)
        if self.error is not None:
            raise self.error

    @property
    def uri(self) -> str:
        return f"ws://{HOST}:{self.server.port}"


@dataclass
class World:
    """The login service (real HTTP for its JWKS), a real channel, one SQLite store."""

    tmp: Path
    clock: Clock
    app: flask.Flask
    base_url: str
    channel: ChannelThread
    interfaces: list[Any] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> Any:
        return self.app.extensions["flask_modular_login"]

    @property
    def run_dir(self) -> Path:
        return self.state.settings.run_dir

    def credential(self, name: str) -> str:
        """A new client ``name`` allowed on the channel (as ``clients add`` does)."""
        credential = new_credential(name, secrets.token_bytes(32))
        self.state.store.clients.add(name, parse_credential(credential)[1], int(time.time()))
        return credential

    def remote(self, name: str) -> RemoteLoginInterface:
        """A connected, caught-up remote interface (its own ChannelClient thread)."""
        return self.remote_builder(name).interface

    def remote_builder(self, name: str) -> RemoteLoginBuilder:
        """``RemoteLoginBuilder(..., interface=...)`` over a connected remote interface."""
        credential = self.credential(name)
        interface = RemoteLoginInterface(self.base_url, self.channel.uri, credential,
                                         clock=self.clock)
        self.interfaces.append(interface)
        if not interface.channel.wait_ready(10):
            raise RuntimeError(f"remote client {name} did not connect within 10 s")
        return RemoteLoginBuilder(base_url=self.base_url, uri=self.channel.uri,
                                  credential=credential, interface=interface)

    def local(self) -> LocalLoginInterface:
        interface = LocalLoginInterface(run_dir=str(self.run_dir), clock=self.clock)
        self.interfaces.append(interface)
        return interface

    def session(self, username: str) -> Issued:
        """A new live session of ``username`` (created at first use) and its first lease."""
        state = self.state
        if username not in self.users:
            user = state.store.accounts.login("test", username, username, None,
                                              int(self.clock()))
            self.users[username] = user.id
        return state.services.sessions.start(self.users[username], "test")

    @classmethod
    @contextlib.contextmanager
    def open(cls, tmp: Path) -> Iterator[World]:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per JWKS fetch
        clock = Clock()
        app = create_app({"LOGIN_RUN_DIR": str(tmp / "run"), "LOGIN_DEBUG": True}, clock=clock)
        state = app.extensions["flask_modular_login"]
        http = make_server(HOST, 0, app, threaded=True)
        http_thread = threading.Thread(target=http.serve_forever, daemon=True,
                                       name="bench-http")
        http_thread.start()
        channel = ChannelThread(ChannelServer(state.store, state.services,
                                              state.settings)).start()
        world = cls(tmp, clock, app, f"http://{HOST}:{http.server_port}", channel)
        try:
            yield world
        finally:
            closers = [threading.Thread(target=i.close) for i in world.interfaces]
            for closer in closers:
                closer.start()
            for closer in closers:
                closer.join()
            for interface in world.interfaces:
                store = getattr(interface, "store", None)
                if store is not None:
                    store.dispose()
            channel.stop()
            http.shutdown()
            http.server_close()
            http_thread.join(5)
            state.store.dispose()


# --------------------------------------------------------------------------- 1. requests


def bare_app() -> flask.Flask:
    app = flask.Flask("bench_channel_bare")

    @app.route(PATH)
    def hidden() -> str:
        return "ok"

    return app


def guarded_app(name: str, builder: LoginBuilder) -> flask.Flask:
    login_required, _login_optional = builder.decorators
    app = flask.Flask(name)

    @app.route(PATH)
    @login_required
    def hidden() -> str:
        return "ok"

    return app


class CountedCalls:
    """Stands in for ``channel.call`` and counts the RPCs (``forbid``: any RPC fails)."""

    def __init__(self, channel: Any, forbid: bool = False) -> None:
        self.channel = channel
        self.original = channel.call
        self.forbid = forbid
        self.count = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.count += 1
        if self.forbid:
            raise AssertionError("an RPC on the valid-lease path")
        return self.original(*args, **kwargs)

    def __enter__(self) -> CountedCalls:
        self.channel.call = self
        return self

    def __exit__(self, *_exc: object) -> None:
        del self.channel.call  # the method again


@dataclass
class Variant:
    name: str
    label: str
    client: Client
    remote: RemoteLoginInterface | None = None
    rates: list[float] = field(default_factory=list)
    estimate: float = 0.0


@dataclass
class Requests:
    variants: list[Variant]
    rounds: int
    requests: int
    clock: str
    rpcs: int  # RPCs the remote variant made while timed (must be 0)

    def ratio(self, name: str) -> float:
        return statistics.median(self.ratios(name))

    def ratios(self, name: str) -> list[float]:
        bare = self.variants[0]
        variant = next(v for v in self.variants if v.name == name)
        return [r / b for r, b in zip(variant.rates, bare.rates, strict=True)]


def request_variants(world: World) -> list[Variant]:
    token = world.session("bench-request").token
    local = LoginBuilder(prefix=world.base_url, interface=world.local())
    remote = world.remote_builder("bench-request-app")
    remote_interface = remote.interface
    variants = [
        Variant("bare", "bare Flask route", bare_app().test_client()),
        Variant("local", "local: LoginBuilder, valid lease",
                guarded_app("bench_channel_local", local).test_client()),
        Variant("remote", "remote: RemoteLoginBuilder, valid lease",
                guarded_app("bench_channel_remote", remote).test_client(), remote_interface),
    ]
    for variant in variants:  # the same cookie everywhere: identical requests
        variant.client.set_cookie("login", token, domain="localhost")
    return variants


def check(variant: Variant) -> None:
    """The real page; on the remote variant with every RPC forbidden: a valid lease never
    asks the service."""
    with contextlib.ExitStack() as stack:
        if variant.remote is not None:
            stack.enter_context(CountedCalls(variant.remote.channel, forbid=True))
        check_page(variant)


def measure_requests(world: World, rounds: int, budget: float, requests: int | None = None,
                     slices: int = 8, clock_name: str = "wall",
                     progress: Progress = quiet) -> Requests:
    """Bare, local ours, remote ours side by side (as the login suite): ``rounds`` rounds,
    each ``slices`` passes over the variants with the order rotated every pass."""
    clock = {"wall": time.perf_counter, "cpu": time.process_time}[clock_name]
    variants = request_variants(world)
    for variant in variants[1:]:
        check_protected(variant)
    for variant in variants:  # warm-up (untimed): caches, first verification, JWKS
        check(variant)
        timed_batch(variant.client, 100, clock)
        variant.estimate = 200 / timed_batch(variant.client, 200, clock)
        check(variant)
    if requests is None:
        per_request = sum(1 / v.estimate for v in variants)
        requests = max(slices * 20, int(budget / rounds / per_request))
    slices = max(1, min(slices, requests))
    requests -= requests % slices
    chunk = requests // slices
    remote = variants[2].remote
    assert remote is not None
    passes = 0
    with CountedCalls(remote.channel) as calls:
        for number in range(rounds):
            gc.collect()
            spent, passes = timed_round(variants, slices, chunk, clock, passes)
            for variant in variants:
                variant.rates.append(requests / spent[variant.name])
            progress(f"requests, round {number + 1}/{rounds}: " + "  ".join(
                f"{v.name} {v.rates[-1]:,.0f}/s" for v in variants))
    for variant in variants:
        check(variant)  # still the real page after timing
    if calls.count:
        raise SystemExit(f"the remote variant made {calls.count} RPCs with a valid lease")
    return Requests(variants, rounds, requests, clock_name, calls.count)


# --------------------------------------------------------------------------- 2. renewals


@dataclass
class Renewals:
    rpc: list[float]  # seconds per renew RPC
    get: list[float]  # seconds per GET that renewed


@dataclass
class RenewingApp:
    """One remote client app for the renewal measure: its interface, a browser on a guarded
    route, the lease it renews by RPC and when it last sent anything."""

    interface: RemoteLoginInterface
    browser: Client
    issued: Issued | None = None
    last: float = 0.0


def measure_renewals(world: World, samples: int, warmup: int = 20, apps: int = RENEWING_APPS,
                     progress: Progress = quiet) -> Renewals:
    """Before each sample the clock moves one lease length and a second on, so every lease
    has run out and every renewal is real (a store write, a signature, a verification).

    A sample is one ``renewer.renew`` RPC and one GET that renews, on one of ``apps``
    remote apps in turn: the channel allows a connection 200 messages a second (then closes
    it for flooding), so each connection is kept under ``RPC_RATE`` with a pause if needed.
    """
    step = world.state.settings.lease_seconds + 1
    gap = 2 / RPC_RATE  # two messages a sample
    renewing = []
    for number in range(apps):
        builder = world.remote_builder(f"bench-renew-app-{number}")
        renewing.append(RenewingApp(builder.interface,
                                    guarded_app(f"bench_channel_renew_{number}",
                                                builder).test_client()))
    result = Renewals([], [])
    gc.collect()
    for number in range(warmup + samples):
        if number % ROTATE == 0:  # sessions last 30 days: fresh ones now and then
            for app in renewing:
                app.issued = world.session("bench-renew")
                app.browser.set_cookie("login", world.session("bench-renew-browser").token,
                                       domain="localhost")
        app = renewing[number % apps]
        assert app.issued is not None
        pause = app.last + gap - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        world.clock.advance(step)
        if world.clock() < app.issued.lease.expires_at:
            raise SystemExit("renewals: the lease has not run out; the clock did not move")
        start = time.perf_counter()
        renewed = app.interface.renewer.renew(app.issued.token, app.issued.lease)
        rpc = time.perf_counter() - start
        if renewed.lease.expires_at <= world.clock() or renewed.token == app.issued.token:
            raise SystemExit("renewals: the service answered with no new, live lease")
        app.issued = renewed
        start = time.perf_counter()
        response = app.browser.get(PATH)
        get = time.perf_counter() - start
        app.last = time.perf_counter()
        if response.status_code != 200 or "login=" not in response.headers.get("Set-Cookie", ""):
            raise SystemExit(f"renewals: the GET answered {response.status_code} without "
                             "setting a renewed lease")
        if number >= warmup:
            result.rpc.append(rpc)
            result.get.append(get)
        done = number + 1 - warmup
        if done > 0 and done % 500 == 0:
            progress(f"renewals: {done}/{samples}")
    return result


# --------------------------------------------------------------------------- 3. logouts


@dataclass
class Logouts:
    clients: int
    all: list[float] = field(default_factory=list)  # seconds until every feed has it
    first: list[float] = field(default_factory=list)  # seconds until the first one has it


def measure_logouts(world: World, clients: int, trials: int, warmup: int = 3,
                    progress: Progress = quiet) -> Logouts:
    """``clients`` remote interfaces on the channel; per trial: a new session, valid on all
    of them, ended on the service; the time from ``sessions.end`` until every feed holds it
    (polled every ``LOGOUT_POLL`` s). Afterwards every interface must refuse the lease."""
    interfaces = [world.remote(f"bench-feed-{n}") for n in range(clients)]
    progress(f"logouts: {clients} remote clients connected")
    sessions = world.state.services.sessions
    result = Logouts(clients)
    for number in range(warmup + trials):
        issued = world.session("bench-logout")
        for interface in interfaces:
            auth = interface.authenticate(issued.token)
            if auth.user is None or auth.renewed is not None:
                raise SystemExit("logouts: a remote client did not accept a fresh lease")
        if not all(i.channel.ready for i in interfaces):
            raise SystemExit("logouts: a remote client is not connected")
        session_id = issued.lease.session_id
        pending = [i.feed.revoked for i in interfaces]
        first = None
        gc.collect()
        start = time.perf_counter()
        if not sessions.end(session_id, "logout"):
            raise SystemExit("logouts: the session did not end")
        while True:
            pending = [revoked for revoked in pending if session_id not in revoked]
            now = time.perf_counter()
            if first is None and len(pending) < clients:
                first = now - start
            if not pending:
                break
            if now - start > 10:
                raise SystemExit(f"logouts: {len(pending)} of {clients} clients did not hear "
                                 "of the logout within 10 s")
            time.sleep(LOGOUT_POLL)
        took = time.perf_counter() - start
        for interface in interfaces:
            if interface.authenticate(issued.token).user is not None:
                raise SystemExit("logouts: a remote client still accepts the ended session")
        if number >= warmup:
            result.all.append(took)
            result.first.append(first if first is not None else took)
        done = number + 1 - warmup
        if done > 0 and done % 50 == 0:
            progress(f"logouts: {done}/{trials}")
        time.sleep(0.005)
    return result


# --------------------------------------------------------------------------- 4. memory


@dataclass
class Memory:
    connections: int
    before: int  # bytes of RSS of the channel process
    after: int
    limits: str  # the open-file limits, this process and the channel's

    @property
    def per_client(self) -> float:
        return (self.after - self.before) / self.connections


def raise_open_files() -> tuple[int, int, int]:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (each connection is one
    file here and one in the channel process, which inherits the limit): (old, new, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    new = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if new > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard


def rss(pid: int) -> int:
    """Resident set size of ``pid`` in bytes (VmRSS in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def open_files_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return f"{soft}/{hard}"
    return "?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


async def authenticated(uri: str, credential: str) -> WebSocket:
    """One raw websocket, through the handshake (hello, auth, welcome) and left open."""
    ws = await websocket_connect(uri, open_timeout=30, close_timeout=2, compression=None)
    conn = ClientConnection.from_credential(credential, secrets.token_bytes(NONCE_BYTES),
                                            time.time())
    [send] = conn.receive_data(await asyncio.wait_for(ws.recv(), 30), time.time())
    if not isinstance(send, Send):
        raise RuntimeError(f"memory: the channel's hello was refused: {send}")
    await ws.send(send.text)
    [welcome] = conn.receive_data(await asyncio.wait_for(ws.recv(), 30), time.time())
    if not isinstance(welcome, Welcomed):
        raise RuntimeError(f"memory: not welcomed: {welcome}")
    return ws


async def drain(ws: WebSocket) -> None:
    """Read (and drop) what the channel pushes: heartbeats, while the connection is open."""
    with contextlib.suppress(Exception):
        async for _message in ws:
            pass


async def connect_many(uri: str, credential: str, count: int,
                       concurrency: int = 50) -> tuple[list[WebSocket], list[asyncio.Task]]:
    gate = asyncio.Semaphore(concurrency)  # the server's listen backlog is 100

    async def one() -> WebSocket:
        async with gate:
            return await authenticated(uri, credential)

    sockets = list(await asyncio.gather(*(one() for _ in range(count))))
    return sockets, [asyncio.create_task(drain(ws)) for ws in sockets]


async def close_all(sockets: list[WebSocket], readers: list[asyncio.Task]) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.gather(*(ws.close() for ws in sockets),
                                              return_exceptions=True), 30)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)


async def measure_rss(pid: int, uri: str, credential: str, connections: int,
                      settle: float) -> tuple[int, int]:
    """RSS before (after a burst of connections opened and closed: the worker threads and
    lazy imports are then in "before") and after ``connections`` stay open."""
    warm, readers = await connect_many(uri, credential, min(WARMUP_CONNECTIONS, connections))
    await close_all(warm, readers)
    await asyncio.sleep(settle)
    before = rss(pid)
    sockets, readers = await connect_many(uri, credential, connections)
    try:
        await asyncio.sleep(settle)  # a heartbeat or more out on every connection
        closed = sum(1 for ws in sockets if ws.close_code is not None)
        if closed:
            raise RuntimeError(f"memory: {closed} connections closed while measuring")
        after = rss(pid)
    finally:
        await close_all(sockets, readers)
    return before, after


def measure_memory(tmp: Path, connections: int, settle: float,
                   progress: Progress = quiet) -> Memory:
    """Start ``python -m flask_modular_login channel`` in a new run dir (after ``init`` and
    ``clients add``), connect ``connections`` authenticated websockets from this process's
    event loop, and read the channel process's RSS before and after."""
    old, new, hard = raise_open_files()
    run_dir = tmp / "memory-run"
    source = str(Path(flask_modular_login.__file__).resolve().parents[1])
    env = {**os.environ, "LOGIN_RUN_DIR": str(run_dir),
           "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "flask_modular_login"]
    subprocess.run([*command, "init"], env=env, check=True, capture_output=True)
    credential = subprocess.run([*command, "clients", "add", "bench-memory"], env=env,
                                check=True, capture_output=True, text=True).stdout.strip()
    port = free_port()
    with (run_dir / "channel.log").open("w") as log:
        process = subprocess.Popen([*command, "channel", "--port", str(port)], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the channel process exited ({process.returncode}); "
                                       f"see {run_dir / 'channel.log'}")
                with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the channel process did not listen within 30 s")
                time.sleep(0.05)
            raised = f"raised from {old} to" if new > old else "already at"
            limits = (f"open files: this process's soft limit {raised} {new} (hard {hard}); "
                      f"the channel process inherits it: soft/hard "
                      f"{open_files_limit(process.pid)}")
            progress(f"memory: connecting {connections:,} clients to the channel process")
            before, after = asyncio.run(measure_rss(process.pid, f"ws://{HOST}:{port}",
                                                    credential, connections, settle))
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return Memory(connections, before, after, limits)


# --------------------------------------------------------------------------- report


@dataclass
class Verdict:
    measure: str
    value: str
    target: str
    met: bool


def report(requests: Requests | None, renewals: Renewals | None, logouts: Logouts | None,
           memory: Memory | None) -> list[Verdict]:
    """Print each measure's details and the summary table; the verdicts."""
    verdicts: list[Verdict] = []
    ms = 1000.0
    if requests is not None:
        print()
        print(f"1. GET {PATH}, Flask test client: {requests.rounds} rounds x "
              f"{requests.requests:,} requests per variant, interleaved; {requests.clock} "
              "clock; medians over rounds")
        print()
        width = max(len(v.label) for v in requests.variants)
        head = f"{'variant':<{width}} {'req/s':>8} {'vs bare':>8} {'min-max':>10}"
        print(head)
        print("-" * len(head))
        for variant in requests.variants:
            paired = requests.ratios(variant.name)
            print(f"{variant.label:<{width}} {statistics.median(variant.rates):>8,.0f} "
                  f"{statistics.median(paired):>8.2f} {min(paired):>4.2f}-{max(paired):<4.2f}")
        print(f"RPCs over the channel by the remote variant while timed: {requests.rpcs}")
        ratio = requests.ratio("remote")
        verdicts.append(Verdict("remote request, valid lease, vs bare", f"{ratio:.2f}",
                                f">= {TARGET_REQUEST:.2f}", ratio >= TARGET_REQUEST))
    if renewals is not None:
        print()
        print(f"2. Lease renewal over the channel, {len(renewals.rpc):,} samples each "
              "(the clock moved past the lease before each)")
        print()
        head = f"{'':<42} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        print(head)
        print("-" * len(head))
        for label, values in (("renew RPC (interface.renewer.renew)", renewals.rpc),
                              ("GET that renews (test client)", renewals.get)):
            print(f"{label:<42} " + " ".join(f"{percentile(values, p) * ms:>8.2f}"
                                             for p in (50, 90, 99, 100)))
        p99 = percentile(renewals.rpc, 99) * ms
        verdicts.append(Verdict("lease renewal over loopback, p99",
                                f"{p99:.2f} ms (p50 {percentile(renewals.rpc, 50) * ms:.2f})",
                                f"<= {TARGET_RENEW_P99_MS:g} ms", p99 <= TARGET_RENEW_P99_MS))
    if logouts is not None:
        print()
        print(f"3. Logout on the service until {logouts.clients} remote clients refuse, "
              f"{len(logouts.all):,} trials (feeds looked at every {LOGOUT_POLL * ms:g} ms)")
        print()
        head = f"{'':<42} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        print(head)
        print("-" * len(head))
        for label, values in (("sessions.end -> every feed revoked", logouts.all),
                              ("sessions.end -> the first feed revoked", logouts.first)):
            print(f"{label:<42} " + " ".join(f"{percentile(values, p) * ms:>8.2f}"
                                             for p in (50, 90, 99, 100)))
        p99 = percentile(logouts.all, 99) * ms
        verdicts.append(Verdict(f"logout until {logouts.clients} clients refuse, p99",
                                f"{p99:.2f} ms (p50 {percentile(logouts.all, 50) * ms:.2f})",
                                f"<= {TARGET_LOGOUT_P99_MS:g} ms", p99 <= TARGET_LOGOUT_P99_MS))
    if memory is not None:
        print()
        print(f"4. Channel process memory with {memory.connections:,} authenticated "
              "connections (VmRSS)")
        print()
        mib = 1024 * 1024
        print(f"before {memory.before / mib:.1f} MiB, after {memory.after / mib:.1f} MiB: "
              f"{memory.per_client / 1000:.1f} KB ({memory.per_client / 1024:.1f} KiB) "
              "per connection")
        print(memory.limits)
        verdicts.append(Verdict(f"memory per client ({memory.connections:,} on one process)",
                                f"{memory.per_client / 1000:.1f} KB",
                                f"<= {TARGET_MEMORY_BYTES / 1000:g} KB",
                                memory.per_client <= TARGET_MEMORY_BYTES))
    print()
    width = max(len(v.measure) for v in verdicts) if verdicts else 10
    head = f"{'measure':<{width}}  {'value':<22} {'target':<10} result"
    print(head)
    print("-" * len(head))
    for verdict in verdicts:
        print(f"{verdict.measure:<{width}}  {verdict.value:<22} {verdict.target:<10} "
              f"{'pass' if verdict.met else 'MISS'}")
    print()
    return verdicts


# --------------------------------------------------------------------------- command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("channel suite")
    group.add_argument("--renewals", type=int,
                       help="renewals timed (each also as a GET; default 2000, --quick 200)")
    group.add_argument("--logouts", type=int, help="logout trials (default 200, --quick 30)")
    group.add_argument("--remote-clients", type=int, default=50,
                       help="remote clients that must refuse a logout (default 50)")
    group.add_argument("--connections", type=int,
                       help="connections for the memory measure (default 1000, --quick 200)")
    group.add_argument("--settle", type=float, default=2.5,
                       help="seconds the connections stay open before RSS is read (2.5: at "
                            "least one heartbeat)")


def run(args: argparse.Namespace) -> int:
    """The ``channel`` suite; 1 if ``--check`` and a target is missed."""
    quick = getattr(args, "quick", False)
    rounds = getattr(args, "rounds", None) or (3 if quick else 7)
    budget = getattr(args, "seconds", None) or (4.0 if quick else 20.0)
    renewals = args.renewals or (200 if quick else 2000)
    logouts = args.logouts or (30 if quick else 200)
    connections = args.connections or (200 if quick else 1000)
    numbers = (rounds, budget, renewals, logouts, args.remote_clients, connections)
    if min(numbers) <= 0 or args.settle < 0:
        raise SystemExit("channel suite: every size must be positive")

    def progress(line: str) -> None:
        if not getattr(args, "silent", False):
            print(line, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="fml-bench-channel-") as tmp:
        with World.open(Path(tmp)) as world:
            progress("channel: requests (bare, local, remote) side by side ...")
            requests = measure_requests(world, rounds, budget, getattr(args, "requests", None),
                                        4 if quick else 8, getattr(args, "clock", "wall"),
                                        progress)
            progress(f"channel: {renewals:,} renewals ...")
            renewed = measure_renewals(world, renewals, progress=progress)
            progress(f"channel: {logouts:,} logouts to {args.remote_clients} remote clients ...")
            ended = measure_logouts(world, args.remote_clients, logouts, progress=progress)
        memory = measure_memory(Path(tmp), connections, args.settle, progress)
    verdicts = report(requests, renewed, ended, memory)
    missed = [v.measure for v in verdicts if not v.met]
    print("channel suite: " + ("every target met." if not missed
                                else f"MISSED: {'; '.join(missed)}."))
    return 1 if getattr(args, "check", False) and missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, about 20 s")
    parser.add_argument("--rounds", type=int, help="request rounds (default 7, --quick 3)")
    parser.add_argument("--seconds", type=float,
                        help="budget of the timed requests (default 20, --quick 4)")
    parser.add_argument("--requests", type=int,
                        help="requests per variant per round (default: sized from --seconds)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="clock of the request rounds (cpu: this process's CPU time)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("-q", "--silent", action="store_true", help="no progress lines")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
