"""The deployment suite: requests through nginx and uwsgi, loaded by wrk, side by side.

Run from the repository root with the project's virtual environment (needs nginx, wrk,
uwsgi; PostgreSQL and memcached for the renewal variants that use them)::

    python benchmarks/deployment.py            # about 3 minutes
    python benchmarks/deployment.py --quick    # about a minute
    python benchmarks/deployment.py --check    # exit 1 if a target is missed

Three measures, in one run:

1. **A client route** through nginx: bare Flask, ours (``login_required`` with a valid
   lease) and Flask-Login (a SQLite ``user_loader``), each served by its own uwsgi (one
   process, one thread) behind one nginx, loaded by wrk in interleaved rounds; the
   median of each against bare. Target: **ours >= 0.90**.
2. **Lease renewals** per second on one login-service process (uwsgi, one process, one
   thread: one core) behind nginx. Every request carries the expired lease of a live
   session, so every one renews: the signature checked, one write transaction, a new
   lease signed and set. On SQLite, on PostgreSQL, and on PostgreSQL with memcached.
   Reported per second and per CPU-second of the service process (wrk and nginx share
   the two cores with it). Target: **>= 1,200 per CPU-second on SQLite**.
3. **Group checks** per second through the channel, from a remote client app: cold
   (every check an RPC the channel answers from the store) and warm (answered from the
   client's own cache). Reported.

PostgreSQL runs from the test harness (tests/support/postgres.py: a throw-away cluster,
durability off, as SQLite's WAL mode with ``synchronous=NORMAL`` does not sync each
commit either). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import environment  # benchmarks/environment.py

environment.prepare()

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support: PostgreSQL and memcached for the benchmark

from apps import USERS, create_user_db, our_lease_token  # noqa: E402  (benchmarks/apps.py)

from flask_modular_login import keystore  # noqa: E402
from flask_modular_login.core import leases  # noqa: E402
from flask_modular_login.core.verifier import LeaseVerifier  # noqa: E402

ROUTE_TARGET = 0.90
RENEWAL_TARGET = 1200.0
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
UWSGI = str(Path(sys.prefix) / "bin" / "uwsgi")
UWSGI_PARAMS = "/etc/nginx/uwsgi_params"


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(path: Path, process: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start (see {process.args})")
        time.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid`` and its children's threads
    that are still alive: uwsgi's master and its worker."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for process in [pid, *_children(pid)]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(child) for child in task.read_text().split()]
    return found


@contextlib.contextmanager
def uwsgi(name: str, sockets: Path, logs: Path, wsgi: list[str],
          env: dict[str, str], threads: int = 1,
          processes: int = 1) -> Iterator[tuple[Path, int]]:
    """One uwsgi, ``processes`` processes of ``threads`` threads (default one of one), on
    ``sockets/name.sock`` (which nginx reaches): its socket and its master's pid."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower())  # "service-PostgreSQL + memcached"
    sock, log_path = sockets / f"{slug}.sock", logs / f"{slug}.log"
    args = [UWSGI, "--socket", str(sock), "--chmod-socket=666", "--master",
            "--processes", str(processes), "--threads", str(threads), "--need-app",
            "--lazy-apps", "--disable-logging",
            "--die-on-term", "--listen", "128", *wsgi]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(args, env={**os.environ, **env}, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(sock, process, f"uwsgi {name} (log: {log_path})")
        yield sock, process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def nginx_conf(tmp: Path, upstreams: dict[int, Path]) -> Path:
    """One server per port, each passing every path to one uwsgi socket."""
    servers = "\n".join(
        f"server {{ listen 127.0.0.1:{port}; location / {{ include {UWSGI_PARAMS}; "
        f"uwsgi_pass unix:{sock}; }} }}" for port, sock in upstreams.items())
    temp = " ".join(f"{kind}_temp_path {tmp}/{kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = tmp / "nginx.conf"
    conf.write_text(f"""worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    {temp}
    {servers}
}}
""")
    return conf


@contextlib.contextmanager
def nginx(tmp: Path, upstreams: dict[int, Path]) -> Iterator[None]:
    conf = nginx_conf(tmp, upstreams)
    process = subprocess.Popen([NGINX, "-c", str(conf), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        for port in upstreams:
            wait_port(port, process, conf)
        yield
    finally:
        process.terminate()
        process.wait(10)


def _tail(path: Path) -> str:
    with contextlib.suppress(OSError):
        return path.read_text()[-2000:]
    return f"no {path}"


def wait_port(port: int, process: subprocess.Popen, conf: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("nginx exited: " + _tail(conf.parent / "nginx-error.log"))
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"nginx did not listen on {port}")


# --------------------------------------------------------------------------- wrk


@dataclass
class Load:
    """What one wrk run measured."""

    rate: float  # requests per second
    p50_ms: float
    p99_ms: float
    cpu: float = 0.0  # CPU seconds the server process used meanwhile (when measured)


def wrk(url: str, cookie: str, seconds: float, connections: int) -> Load:
    """Load ``url`` with ``cookie`` for ``seconds``; every answer must be 2xx."""
    done = subprocess.run(
        [WRK, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
         "-H", f"Cookie: {cookie}", url], capture_output=True, text=True, check=False)
    out = done.stdout
    if done.returncode != 0 or "Requests/sec" not in out:
        raise SystemExit(f"wrk failed on {url}: {out}{done.stderr}")
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk on {url}: failed requests during timing:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return Load(rate, _latency(out, "50%"), _latency(out, "99%"))


def _latency(out: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def answer(url: str, cookie: str) -> tuple[int, str]:
    """One GET with ``cookie``: its status and the Set-Cookie header (empty if none)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", parts.path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Set-Cookie") or ""
    finally:
        connection.close()


# --------------------------------------------------------------------------- 1. the route


@dataclass
class RouteVariant:
    name: str
    label: str
    port: int
    cookie: str
    loads: list[Load] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hidden"


def route_suite(tmp: Path, run_dir: Path, rounds: int, seconds: float,
                connections: int) -> dict[str, float]:
    token = our_lease_token(run_dir)
    user_db = tmp / "flask_login_users.db"
    create_user_db(user_db)
    secret = os.urandom(32)
    flask_login_cookie = flask_login_session(user_db, secret)
    sockets, logs = tmp / "sockets", tmp / "logs"
    wsgi = ["--wsgi-file", str(ROOT / "benchmarks" / "wsgi_variants.py")]
    base = {"BENCH_RUN_DIR": str(run_dir), "BENCH_USER_DB": str(user_db),
            "BENCH_SECRET": secret.hex()}
    variants = [RouteVariant("bare", "bare Flask route", free_port(), f"login={token}"),
                RouteVariant("ours", "ours: login_required, valid lease", free_port(),
                             f"login={token}"),
                RouteVariant("flask-login", "Flask-Login + SQLite user_loader", free_port(),
                             flask_login_cookie)]
    with contextlib.ExitStack() as stack:
        upstreams = {v.port: stack.enter_context(
            uwsgi(v.name, sockets, logs, wsgi, {**base, "BENCH_VARIANT": v.name}))[0]
            for v in variants}
        stack.enter_context(nginx(tmp / "nginx-route", upstreams))
        for variant in variants:
            check_route(variant)
            wrk(variant.url, variant.cookie, 1, connections)  # warm up
        for number in range(rounds):
            order = variants[number % 3:] + variants[:number % 3]
            for variant in order:
                variant.loads.append(wrk(variant.url, variant.cookie, seconds, connections))
            progress(f"route round {number + 1}/{rounds}: " + ", ".join(
                f"{v.name} {v.loads[-1].rate:.0f}/s" for v in variants))
    bare = statistics.median(load.rate for load in variants[0].loads)
    print("\n1. A client route through nginx and uwsgi (one process, one thread each); "
          f"wrk, {connections} connections, {rounds} rounds of {seconds:g} s, medians")
    print(f"   {'variant':<40} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'vs bare':>8}")
    ratios = {}
    for variant in variants:
        rate = statistics.median(load.rate for load in variant.loads)
        ratios[variant.name] = rate / bare
        p50 = statistics.median(load.p50_ms for load in variant.loads)
        p99 = statistics.median(load.p99_ms for load in variant.loads)
        print(f"   {variant.label:<40} {rate:>8.0f} {p50:>7.2f} {p99:>7.2f} "
              f"{rate / bare:>8.2f}")
    return ratios


def flask_login_session(user_db: Path, secret: bytes) -> str:
    """The session cookie of a Flask-Login user, signed with ``secret``."""
    from apps import flask_login_app

    client = flask_login_app(user_db, secret_key=secret).test_client()
    if client.post(f"/bench-login/{USERS // 2}").status_code != 200:
        raise SystemExit("Flask-Login bench login failed")
    cookie = client.get_cookie("session")
    assert cookie is not None
    return f"session={cookie.value}"


def check_route(variant: RouteVariant) -> None:
    status, set_cookie = answer(variant.url, variant.cookie)
    if status != 200 or set_cookie.startswith("login="):
        raise SystemExit(f"{variant.name}: {variant.url} answered {status} {set_cookie!r}, "
                         "not 200 without a new cookie: refusing to benchmark it")
    if variant.name != "bare" and answer(variant.url, "")[0] == 200:
        raise SystemExit(f"{variant.name}: answered 200 without a cookie")


# --------------------------------------------------------------------------- 2. renewals


@dataclass
class Database:
    name: str
    url: str
    memcached: str | None = None


def expired_lease_cookie(run_dir: Path, database_url: str | None) -> str:
    """The cookie of a live session whose lease ran out: every request with it renews."""
    token = our_lease_token(run_dir, database_url)
    keys = keystore.load(run_dir / "keys")
    lease = LeaseVerifier(lambda: keys.ring).lease(token)
    now = int(time.time())
    expired = dataclasses.replace(lease, issued_at=now - 120, expires_at=now - 60)
    return "login=" + leases.issue(expired, keys.signing)


def renewal_suite(tmp: Path, run_dir: Path, databases: list[Database], rounds: int,
                  seconds: float, connections: int) -> dict[str, float]:
    rates: dict[str, list[Load]] = {db.name: [] for db in databases}
    sockets, logs = tmp / "sockets", tmp / "logs"
    ports = {db.name: free_port() for db in databases}
    cookies = {db.name: expired_lease_cookie(run_dir, db.url) for db in databases}
    wsgi = ["--module", "flask_modular_login.server.wsgi:application"]
    with contextlib.ExitStack() as stack:
        upstreams, pids = {}, {}
        for db in databases:
            env = {"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DATABASE_URL": db.url,
                   "LOGIN_DEBUG": "1"}
            if db.memcached:
                env["LOGIN_MEMCACHED"] = db.memcached
            upstreams[ports[db.name]], pids[db.name] = stack.enter_context(
                uwsgi(f"service-{db.name}", sockets, logs, wsgi, env))
        stack.enter_context(nginx(tmp / "nginx-renewal", upstreams))
        urls = {name: f"http://127.0.0.1:{port}/login/me" for name, port in ports.items()}
        for name, url in urls.items():
            status, set_cookie = answer(url, cookies[name])
            if status != 200 or not set_cookie.startswith("login="):
                raise SystemExit(f"renewal on {name}: {status} {set_cookie[:40]!r}: not a "
                                 "renewal; refusing to benchmark it")
            wrk(url, cookies[name], 1, connections)
        for number in range(rounds):
            for db in databases[number % len(databases):] + databases[:number % len(databases)]:
                used = cpu_seconds(pids[db.name])
                load = wrk(urls[db.name], cookies[db.name], seconds, connections)
                load.cpu = cpu_seconds(pids[db.name]) - used
                rates[db.name].append(load)
            progress(f"renewal round {number + 1}/{rounds}: " + ", ".join(
                f"{name} {loads[-1].rate:.0f}/s" for name, loads in rates.items()))
    print("\n2. Lease renewals on one login-service process (uwsgi, one process, one thread) "
          f"behind nginx; wrk, {connections} connections, medians")
    print("   (per CPU-second: renewals divided by the CPU time the service process used; "
          "wrk and nginx share the machine's two cores with it)")
    print(f"   {'database':<40} {'renewals/s':>10} {'per CPU-s':>10} {'p50 ms':>7} "
          f"{'p99 ms':>7}")
    per_core = {}
    for db in databases:
        loads = rates[db.name]
        rate = statistics.median(load.rate for load in loads)
        per_core[db.name] = statistics.median(load.rate * seconds / load.cpu for load in loads)
        print(f"   {db.name:<40} {rate:>10.0f} {per_core[db.name]:>10.0f} "
              f"{statistics.median(x.p50_ms for x in loads):>7.2f} "
              f"{statistics.median(x.p99_ms for x in loads):>7.2f}")
    return per_core


# --------------------------------------------------------------------------- 3. group checks


def group_check_suite(tmp: Path, users: int) -> dict[str, float]:
    """Group checks from a remote client app (``interface.access.evaluate``) through a real
    channel: every user checked once (cold: an RPC each), then again (warm: cached)."""
    import channel as channel_suite  # benchmarks/channel.py: the service and its channel
    from flask_modular_login.core.groups import GroupPath

    room = GroupPath("bench", ("room",))
    with channel_suite.World.open(tmp) as world:
        store = world.state.store
        store.access.ensure_group(room, int(time.time()))
        ids = []
        for number in range(users):
            user = store.accounts.login("test", f"member{number}", f"member{number}", None,
                                        int(time.time()))
            if number % 2 == 0:  # half of them are members: both answers are exercised
                store.access.add_member(room, user.id, int(time.time()))
            ids.append(user.id)
        remote = world.remote("group-checks")
        remote.access.ensure_namespaces([room])
        rates = {}
        for phase in ("cold", "warm"):
            start = time.perf_counter()
            allowed = sum(remote.access.evaluate(room, user_id).allowed for user_id in ids)
            rates[phase] = users / (time.perf_counter() - start)
            if allowed != (users + 1) // 2:
                raise SystemExit(f"group checks ({phase}): {allowed} allowed, not "
                                 f"{(users + 1) // 2}")
    print(f"\n3. Group checks from a remote client app through the channel ({users:,} users, "
          "each checked once cold, then warm)")
    print(f"   cold (an RPC each, answered from the store): {rates['cold']:>10,.0f} checks/s")
    print(f"   warm (the client's cache):                   {rates['warm']:>10,.0f} checks/s")
    return rates


# --------------------------------------------------------------------------- main


def progress(line: str) -> None:
    if not QUIET:
        print(line, file=sys.stderr, flush=True)


QUIET = False


def require(path: str, what: str) -> None:
    if not Path(path).exists():
        raise SystemExit(f"{what} is missing ({path}); 'sh server.sh bench' installs it as root")


def main(argv: list[str] | None = None) -> int:
    global QUIET
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seconds", type=int, default=None,
                        help="per wrk run, whole seconds (default 4, --quick 2)")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--no-postgres", action="store_true",
                        help="renewals on SQLite only (no PostgreSQL, no memcached)")
    parser.add_argument("--users", type=int, default=2000,
                        help="users of the group-check measure (--quick: 500)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("-q", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    QUIET = args.q
    rounds = args.rounds or (3 if args.quick else 7)
    seconds = args.seconds or (2 if args.quick else 4)
    for path, what in ((NGINX, "nginx"), (WRK, "wrk"), (UWSGI, "uwsgi"),
                       (UWSGI_PARAMS, "nginx's uwsgi_params")):
        require(path, what)
    with tempfile.TemporaryDirectory(prefix="login-bench-deploy-") as name:
        tmp = Path(name)
        os.chmod(tmp, 0o755)  # nginx's workers reach the sockets (the run dir stays 0700)
        for sub in ("sockets", "logs", "nginx-route", "nginx-renewal"):
            (tmp / sub).mkdir(mode=0o777)
            os.chmod(tmp / sub, 0o777)
        run_dir = tmp / "run"
        ratios = route_suite(tmp, run_dir, rounds, seconds, args.connections)
        with databases(tmp, run_dir, not args.no_postgres) as dbs:
            renewals = renewal_suite(tmp, run_dir, dbs, rounds, seconds, args.connections)
        (tmp / "channel").mkdir()
        group_check_suite(tmp / "channel", 500 if args.quick else args.users)
    missed = []
    if ratios["ours"] < ROUTE_TARGET:
        missed.append(f"route: ours {ratios['ours']:.2f} of bare < {ROUTE_TARGET}")
    if renewals["SQLite"] < RENEWAL_TARGET:
        missed.append(f"renewals on SQLite {renewals['SQLite']:.0f} per CPU-second "
                      f"< {RENEWAL_TARGET:.0f}")
    print("\ntargets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if args.check and missed else 0


@contextlib.contextmanager
def databases(tmp: Path, run_dir: Path, with_postgres: bool) -> Iterator[list[Database]]:
    sqlite = Database("SQLite", f"sqlite:///{run_dir / 'users.db'}")
    if not with_postgres:
        yield [sqlite]
        return
    from tests.support.memcached import running_memcached
    from tests.support.postgres import running_postgres

    with running_postgres() as postgres, running_memcached() as memcached:
        yield [sqlite,
               Database("PostgreSQL", postgres.database()),
               Database("PostgreSQL + memcached", postgres.database(), memcached.spec)]


if __name__ == "__main__":
    sys.exit(main())
