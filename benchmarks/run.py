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
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import environment  # benchmarks/environment.py

environment.prepare()

import access as access_suite  # noqa: E402  (benchmarks/access.py)
import flask  # noqa: E402
import load as load_suite  # noqa: E402  (benchmarks/load.py: nginx, uwsgi, PostgreSQL)
from apps import (  # noqa: E402  (benchmarks/apps.py)
    USERS,
    bare_app,
    create_user_db,
    flask_login_app,
    our_lease_token,
    ours_app,
)
from route import PATH, check_page, check_protected, timed_batch, timed_round  # noqa: E402  (route.py)

import channel as channel_suite  # noqa: E402  (benchmarks/channel.py)

TARGET = 0.90  # ours >= 0.90 of bare throughput
FLASK_LOGIN_REFERENCE = 0.71  # what Flask-Login measured on the project's machine

Client = flask.testing.FlaskClient


# --------------------------------------------------------------------------- variants


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
    parser.add_argument("--suite", choices=("all", "login", "access", "channel", "deployment",
                                            "load"),
                        default="all",
                        help="which benchmarks to run (default: all; 'load' runs only when "
                             "named)")
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
    load_suite.add_arguments(parser)
    args = parser.parse_args(argv)
    status = 0
    if args.suite in ("all", "login"):
        status |= run_login(parser, args)
    if args.suite in ("all", "access"):
        status |= access_suite.run(args)
    if args.suite in ("all", "channel"):
        status |= channel_suite.run(args)
    if args.suite in ("all", "deployment"):
        import deployment  # benchmarks/deployment.py: nginx, uwsgi, wrk, PostgreSQL, memcached

        status |= deployment.main(["--quick"] * args.quick + ["--check"] * args.check
                                  + ["-q"] * args.silent)
    if args.suite == "load":
        status |= load_suite.run(args)
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
