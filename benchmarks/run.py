"""The benchmarks, in one command: a protected route (``login``) and access checks (``access``).

Also remote client apps over the channel (``channel``: benchmarks/channel.py).

Run from the repository root with the project's virtual environment::

    python benchmarks/run.py                 # both suites, about a minute
    python benchmarks/run.py --quick         # both, shorter (the access suite keeps its size)
    python benchmarks/run.py --suite login --rounds 11 --clock cpu --check
    python benchmarks/run.py --suite access --samples 20000

The ``login`` suite measures the throughput of one protected route, side by side:
bare Flask, ours, Flask-Login.

Every variant serves ``GET /hidden`` -> ``200 "ok"`` through the Flask test
client (no sockets, no server: what is measured is the framework and the login
check). Variants run side by side in interleaved rounds and the median per
variant is reported: the machine is shared and noisy, so read the ratios
against bare, not the absolute numbers. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import environment  # benchmarks/environment.py

environment.prepare()

import access as access_suite  # noqa: E402  (benchmarks/access.py)
import flask  # noqa: E402
from route import PATH, check_page, check_protected, timed_batch, timed_round  # noqa: E402  (route.py)

import channel as channel_suite  # noqa: E402  (benchmarks/channel.py)
import flask_modular_login  # noqa: E402

try:
    import flask_login  # noqa: E402
except ModuleNotFoundError:
    sys.exit("flask-login is missing: pip install -e '.[bench]'  (or pip install flask-login)")

TARGET = 0.90  # ours >= 0.90 of bare throughput
FLASK_LOGIN_REFERENCE = 0.71  # what Flask-Login measured on the project's machine
USERS = 1000  # rows in the Flask-Login variant's user table

Client = flask.testing.FlaskClient


# --------------------------------------------------------------------------- variants


def bare_app() -> flask.Flask:
    app = flask.Flask("bench_bare")

    @app.route(PATH)
    def hidden() -> str:
        return "ok"

    return app


def ours_app(run_dir: Path) -> flask.Flask:
    builder = flask_modular_login.LoginBuilder(prefix="//localhost:8000", run_dir=str(run_dir))
    login_required, _login_optional = builder.decorators
    app = flask.Flask("bench_ours")

    @app.route(PATH)
    @login_required
    def hidden() -> str:
        return "ok"

    return app


class SQLiteUser(flask_login.UserMixin):
    def __init__(self, user_id: int, name: str, email: str) -> None:
        self.id = user_id
        self.name = name
        self.email = email


def create_user_db(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                   "email TEXT NOT NULL UNIQUE)")
        db.executemany("INSERT INTO users VALUES (?, ?, ?)",
                       ((i, f"user {i}", f"user{i}@example.com") for i in range(1, USERS + 1)))
    db.close()


def flask_login_app(db_path: Path, per_request_connection: bool = False) -> flask.Flask:
    """A usual Flask-Login app: a ``user_loader`` that SELECTs the user by id.

    By default each thread keeps one open connection (what a connection pool gives
    an app): the cheapest honest loader. ``per_request_connection`` opens and closes
    one per request in ``g`` instead, as in Flask's tutorial.
    """
    app = flask.Flask("bench_flask_login")
    app.config["SECRET_KEY"] = os.urandom(32)
    manager = flask_login.LoginManager(app)
    pool = threading.local()

    def get_db() -> sqlite3.Connection:
        if per_request_connection:
            if "db" not in flask.g:
                flask.g.db = sqlite3.connect(db_path)
            return flask.g.db
        if not hasattr(pool, "db"):
            pool.db = sqlite3.connect(db_path)
        return pool.db

    @app.teardown_appcontext
    def close_db(_error: BaseException | None) -> None:
        db = flask.g.pop("db", None)
        if db is not None:
            db.close()

    @manager.user_loader
    def load_user(user_id: str) -> SQLiteUser | None:
        row = get_db().execute("SELECT id, name, email FROM users WHERE id = ?",
                               (int(user_id),)).fetchone()
        return SQLiteUser(*row) if row else None

    @app.post("/bench-login/<int:user_id>")
    def bench_login(user_id: int) -> str:
        user = load_user(str(user_id))
        if user is None:
            flask.abort(404)
        flask_login.login_user(user)
        return "logged in"

    @app.route(PATH)
    @flask_login.login_required
    def hidden() -> str:
        return "ok"

    return app


# --------------------------------------------------------------------------- setup


def our_lease_token(run_dir: Path) -> str:
    """Log in through the login service's ``test`` provider; return the lease cookie."""
    service = flask_modular_login.create_app({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": True})
    client = service.test_client()
    page = client.get("/login/test/")
    found = re.search(rb'name="csrf_token"\s+value="([^"]+)"', page.data)
    if page.status_code != 200 or found is None:
        raise RuntimeError(f"test login page: {page.status_code}, no csrf_token found")
    done = client.post("/login/test/", data={"username": "bench-user",
                                             "csrf_token": found.group(1).decode()})
    for header in done.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == "login":
            token = rest.split(";", 1)[0]
            if token:
                return token
    raise RuntimeError(f"test login did not set the login cookie (status {done.status_code})")


@dataclass
class Variant:
    name: str
    label: str
    client: Client
    rates: list[float] = field(default_factory=list)  # requests per second, one per round
    estimate: float = 0.0  # from the warm-up, to size the rounds


def build_variants(tmp: Path, per_request_connection: bool = False) -> list[Variant]:
    run_dir = tmp / "run"
    token = our_lease_token(run_dir)

    bare = bare_app().test_client()
    # The same cookie as ours, so that both clients build and send the same request.
    bare.set_cookie("login", token, domain="localhost")

    ours = ours_app(run_dir).test_client()
    ours.set_cookie("login", token, domain="localhost")

    db_path = tmp / "flask_login_users.db"
    create_user_db(db_path)
    fl = flask_login_app(db_path, per_request_connection).test_client()
    logged_in = fl.post(f"/bench-login/{USERS // 2}")
    if logged_in.status_code != 200:
        raise RuntimeError(f"Flask-Login bench login: {logged_in.status_code}")

    connection = "connection per request" if per_request_connection else "pooled connection"
    return [
        Variant("bare", "bare Flask route", bare),
        Variant("ours", "ours: login_required, valid lease", ours),
        Variant("flask-login", f"Flask-Login + SQLite user_loader ({connection})", fl),
    ]


# --------------------------------------------------------------------------- timing


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter


def warm_up(variants: list[Variant], requests: int = 400) -> None:
    """Untimed: first requests (ours builds its interface), caches; also estimates rates."""
    for variant in variants:
        check_page(variant)
        timed_batch(variant.client, requests // 2, clock)
        variant.estimate = requests / timed_batch(variant.client, requests, clock)
        check_page(variant)


def size_rounds(variants: list[Variant], rounds: int, slices: int, budget: float) -> int:
    """Requests per variant per round so that the whole run takes about ``budget`` s."""
    seconds_per_request = sum(1 / v.estimate for v in variants)
    requests = int(budget / rounds / seconds_per_request)
    return max(slices * 20, requests - requests % slices)


def run_rounds(variants: list[Variant], rounds: int, requests: int, slices: int,
               progress: Callable[[str], None]) -> None:
    """Each round: ``slices`` passes over the variants, each pass ``requests / slices`` GETs
    per variant, the order rotated every pass; a variant's rate for the round is its
    requests over its summed time. Slicing keeps the variants side by side in time, so a
    burst of load on the machine hits all of them rather than one."""
    chunk = max(1, requests // slices)
    passes = 0
    for number in range(rounds):
        gc.collect()
        spent, passes = timed_round(variants, slices, chunk, clock, passes)
        for variant in variants:
            variant.rates.append(chunk * slices / spent[variant.name])
        progress(f"round {number + 1}/{rounds}: " + "  ".join(
            f"{v.name} {v.rates[-1]:,.0f}/s" for v in variants))


# --------------------------------------------------------------------------- report


def ratios(variant: Variant, bare: Variant) -> list[float]:
    """The variant's rate over bare's, round by round (paired: same moment, same load)."""
    return [r / b for r, b in zip(variant.rates, bare.rates, strict=True)]


def report(variants: list[Variant], rounds: int, requests: int, clock_name: str) -> float:
    """Print the table; return ours' ratio against bare."""
    bare = variants[0]
    print()
    print(f"GET {PATH} with the Flask test client: {rounds} rounds x {requests:,} requests per "
          f"variant, interleaved; {clock_name} clock; medians over rounds")
    print()
    width = max(len(v.label) for v in variants)
    head = f"{'variant':<{width}} {'req/s':>8} {'vs bare':>8} {'min-max':>10} {'target':>7}"
    print(head)
    print("-" * len(head))
    result = {}
    for variant in variants:
        paired = ratios(variant, bare)
        result[variant.name] = ratio = statistics.median(paired)
        target = {"ours": f">={TARGET:.2f}", "flask-login": f"~{FLASK_LOGIN_REFERENCE:.2f}"}
        print(f"{variant.label:<{width}} {statistics.median(variant.rates):>8,.0f} {ratio:>8.2f} "
              f"{min(paired):>4.2f}-{max(paired):<4.2f} {target.get(variant.name, ''):>7}")
    print()
    ours = result["ours"]
    verdict = "meets" if ours >= TARGET else "MISSES"
    print(f"ours / bare = {ours:.2f}: {verdict} the target (>= {TARGET:.2f}). "
          f"Flask-Login / bare = {result['flask-login']:.2f} "
          f"(often quoted at about {FLASK_LOGIN_REFERENCE:.2f}).")
    print("Ratios matter, absolute req/s do not (shared machine, test client, no server).")
    return ours


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", choices=("all", "login", "access", "channel"), default="all",
                        help="which benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="login: 3 short rounds, about 8 s; access: 1000 checks; "
                             "channel: smaller sizes, about 20 s")
    parser.add_argument("--rounds", type=int, help="rounds (default 7, --quick 3)")
    parser.add_argument("--seconds", type=float,
                        help="time budget of the timed part (default 30, --quick 5)")
    parser.add_argument("--requests", type=int,
                        help="requests per variant per round (default: sized from --seconds)")
    parser.add_argument("--per-request-connection", action="store_true",
                        help="Flask-Login's loader opens a SQLite connection per request "
                             "(Flask tutorial style) instead of keeping one per thread")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time, "
                             "less disturbed by other processes on a busy machine")
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 if ours is below {TARGET:.2f} of bare, or an access "
                             "target is missed")
    parser.add_argument("-q", "--silent", action="store_true", help="no per-round lines")
    access_suite.add_arguments(parser)
    channel_suite.add_arguments(parser)
    args = parser.parse_args(argv)
    status = 0
    if args.suite in ("all", "login"):
        status |= run_login(parser, args)
    if args.suite in ("all", "access"):
        status |= access_suite.run(args)
    if args.suite in ("all", "channel"):
        status |= channel_suite.run(args)
    return status


def run_login(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """The ``login`` suite; 1 if ``--check`` and ours misses the target."""
    rounds = args.rounds or (3 if args.quick else 7)
    budget = args.seconds or (5.0 if args.quick else 30.0)
    slices = 4 if args.quick else 8
    if rounds < 1 or budget <= 0 or (args.requests is not None and args.requests < 1):
        parser.error("--rounds, --seconds and --requests must be positive")

    global clock
    clock = CLOCKS[args.clock]

    def progress(line: str) -> None:
        if not args.silent:
            print(line, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="fml-bench-") as tmp:
        variants = build_variants(Path(tmp), args.per_request_connection)
        for variant in variants[1:]:
            check_protected(variant)
        warm_up(variants)
        requests = args.requests or size_rounds(variants, rounds, slices, budget)
        slices = min(slices, requests)
        requests -= requests % slices
        run_rounds(variants, rounds, requests, slices, progress)
        for variant in variants:
            check_page(variant)  # still the real page after timing
        ours = report(variants, rounds, requests, args.clock)
    return 1 if args.check and ours < TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
