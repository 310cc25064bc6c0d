"""Load held: how much one process of each kind keeps up with, latency under 50 ms.

Run from the repository root with the project's virtual environment (needs nginx and
uwsgi; PostgreSQL for the channel measure)::

    python benchmarks/load.py              # about 2-3 minutes
    python benchmarks/load.py --quick      # about a minute
    python benchmarks/run.py --suite load [--quick]

Two figures:

a. **Renewals per second one login-service process holds** (uwsgi, one process, one
   thread, SQLite, behind nginx: benchmarks/stack.py) with renewal p99 < 50 ms. An
   open-loop generator sends ``GET /login/me`` with the expired lease of a live session at
   a fixed rate (every request renews), each request's latency counted from the time it
   was *scheduled* (not sent), so a stalled server is charged for the requests that
   waited (no coordinated omission). Rates rise until p99 reaches 50 ms (or a request
   fails) twice in a row at one rate, then the gap between the last rate held and the
   first missed is halved twice (once with ``--quick``).
b. **Remote clients one channel process holds** with revocation p99 < 50 ms: N raw
   authenticated websockets (as benchmarks/channel.py's memory measure), spread over
   ``--receivers`` processes; per trial a session is ended in the store (``sessions.end``),
   timed until every one of the N connections has received its ``revoked`` event. The
   store is PostgreSQL, whose NOTIFY wakes the channel at once (on SQLite a channel in
   another process than the writer learns of a logout at its next poll of the log, every
   50 ms, which alone would use up the budget). N = 100, 250, 500, 1000, 2000, 4000
   (``--max-clients``) until p99 reaches 50 ms.

See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import stack  # benchmarks/stack.py (prepares the environment first)
from deployment import cpu_seconds  # benchmarks/deployment.py
from stack import Browser, Stack, channel_process, cli, expired_token, rss, service_env

from channel import close_all, connect_many, percentile, raise_open_files  # channel.py
from flask_modular_login import create_app, keystore

TARGET_MS = 50.0
RATES = (100, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000)
CLIENTS = (100, 250, 500, 1000, 2000, 4000, 8000)
LAG_WARNING_MS = 10.0  # the generator itself fell behind: the figure is the generator's

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- a. renewals


@dataclass
class Step:
    """One fixed rate held for a while."""

    rate: float
    latencies: list[float] = field(default_factory=list)  # seconds, from the scheduled time
    lags: list[float] = field(default_factory=list)  # seconds the generator sent late
    errors: dict[str, int] = field(default_factory=dict)
    cpu: float = 0.0  # the service process's CPU seconds meanwhile
    seconds: float = 0.0

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000 if self.latencies else float("inf")

    @property
    def held(self) -> bool:
        return not self.errors and self.p99_ms < TARGET_MS

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class Connections:
    """Keep-alive HTTP/1.1 connections to one server, each carrying one request at a time:
    a request takes an idle one or opens another (no limit: an open-loop generator never
    waits for a connection). Hand-written rather than aiohttp: about a tenth of the CPU per
    request, so the generator, sharing the machine with the server, falls behind later."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened: list[asyncio.StreamWriter] = []

    async def get(self, request: bytes) -> tuple[int, bytes]:
        """Send ``request`` (a whole GET); the status and the response's header block."""
        if self.idle:
            reader, writer = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.opened.append(writer)
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
        await reader.readexactly(int(length.group(1)) if length else 0)
        if re.search(rb"\r\nconnection: *close", head, re.IGNORECASE):
            writer.close()
        else:
            self.idle.append((reader, writer))
        return int(head[9:12]), head

    async def close(self) -> None:
        for writer in self.opened:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def fixed_rate(port: int, path: str, cookie: str, rate: float, seconds: float) -> Step:
    """Send ``GET path`` to 127.0.0.1:``port`` at ``rate`` a second for ``seconds``, open
    loop: request ``i`` is due at ``start + i / rate`` whatever the answers before it; every
    answer must be a 200 that sets a new ``login`` cookie."""
    step = Step(rate, seconds=seconds)
    loop = asyncio.get_running_loop()
    connections = Connections(stack.HOST, port)
    request = (f"GET {path} HTTP/1.1\r\nHost: {stack.HOST}:{port}\r\n"
               f"Accept: application/json\r\nCookie: {cookie}\r\n\r\n").encode()

    async def send(due: float) -> None:
        step.lags.append(loop.time() - due)
        try:
            status, head = await asyncio.wait_for(connections.get(request), 10)
        except Exception as error:  # a refused or timed-out request is an error
            step.error(type(error).__name__)
            return
        if status != 200 or b"\r\nset-cookie: login=" not in head.lower():
            step.error(f"HTTP {status}" if status != 200 else "not renewed")
            return
        step.latencies.append(loop.time() - due)

    start = loop.time() + 0.05
    tasks = []
    for number in range(int(rate * seconds)):
        due = start + number / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(due)))
    await asyncio.gather(*tasks)
    await connections.close()
    return step


def rates_to_try(held: float, missed: float, halvings: int) -> Iterator[float]:
    """Between the last rate held and the first missed: halve the gap ``halvings`` times
    (the caller sends back whether each rate held)."""
    for _ in range(halvings):
        middle = round((held + missed) / 2)
        if middle in (held, missed):
            return
        ok = yield middle
        held, missed = (middle, missed) if ok else (held, middle)


@dataclass
class Renewals:
    steps: list[Step]

    @property
    def best(self) -> Step | None:
        held = [s for s in self.steps if s.held]
        return max(held, key=lambda s: s.rate) if held else None


def measure_renewals(tmp: Path, seconds: float, halvings: int, progress: Progress) -> Renewals:
    """The stack with the service on one thread; rising fixed rates (see the module)."""
    steps: list[Step] = []
    with Stack.run(tmp, service_threads=1) as running:
        browser = Browser(running.service_port)
        browser.login("load-renewals")
        browser.close()
        keys = keystore.load(running.run_dir / "keys")
        cookie = "login=" + expired_token(browser.cookies["login"], keys)
        [worker] = running.pids["service"]

        def run(rate: float, duration: float) -> Step:
            used = cpu_seconds(worker)
            step = asyncio.run(fixed_rate(running.service_port, "/login/me", cookie, rate,
                                          duration))
            step.cpu = cpu_seconds(worker) - used
            time.sleep(0.5)  # what queued drains before the next rate
            return step

        warm = run(50, 1.0)  # first requests: imports, pools, caches
        if not warm.latencies:
            raise SystemExit(f"renewals: every warm-up request failed: {warm.errors}")
        def held(rate: float) -> bool:
            """Whether ``rate`` is held; a miss is tried once more (one stall of another
            process on this shared machine can cost a short step its p99)."""
            for _attempt in range(2):
                step = run(rate, seconds)
                steps.append(step)
                progress(f"load a: {rate}/s: p99 {step.p99_ms:.1f} ms, "
                         f"errors {step.errors or 0}")
                if step.held:
                    return True
            return False

        missed = next((rate for rate in RATES if not held(rate)), None)
        best = max((s.rate for s in steps if s.held), default=0)
        if missed is not None and best:
            trying = rates_to_try(best, missed, halvings)
            with contextlib.suppress(StopIteration):
                rate = next(trying)
                while True:
                    rate = trying.send(held(rate))
    return Renewals(sorted(steps, key=lambda s: s.rate))


# --------------------------------------------------------------------------- b. the channel


def receiver(pipe: Connection, uri: str, credential: str) -> None:
    """A process holding raw authenticated websockets to the channel: on ``("connect",
    n)`` it opens ``n`` more; for each session whose ``revoked`` event every one of them
    received it sends ``("got", session_id, first, last)`` (``time.monotonic()``, one
    clock for every process of the machine); ``("stop",)`` closes them all."""
    asyncio.run(_receive(pipe, uri, credential))


async def _receive(pipe: Connection, uri: str, credential: str) -> None:
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue = asyncio.Queue()
    loop.add_reader(pipe.fileno(), lambda: commands.put_nowait(pipe.recv()))
    sockets: list = []
    readers: list[asyncio.Task] = []
    arrivals: dict[str, list[float]] = {}

    async def listen(ws: object) -> None:
        with contextlib.suppress(Exception):
            async for message in ws:  # type: ignore[attr-defined]
                if '"revoked"' not in message:
                    continue  # heartbeats
                now = time.monotonic()
                body = json.loads(message)
                body = body.get("event", body)
                if body.get("kind") != "revoked":
                    continue
                session = body["session"]
                times = arrivals.setdefault(session, [])
                times.append(now)
                if len(times) == len(sockets):
                    pipe.send(("got", session, min(times), max(times)))
                    del arrivals[session]

    while True:
        command = await commands.get()
        if command[0] == "connect":
            try:
                new, drains = await connect_many(uri, credential, command[1])
            except Exception as error:
                pipe.send(("failed", f"{type(error).__name__}: {error}"))
                continue
            for drain in drains:  # ours read the events instead
                drain.cancel()
            sockets += new
            readers += [asyncio.create_task(listen(ws)) for ws in new]
            pipe.send(("connected", len(sockets)))
        else:
            closed = sum(1 for ws in sockets if ws.close_code is not None)
            await close_all(sockets, readers)
            pipe.send(("stopped", closed))
            return


@dataclass
class Holding:
    clients: int
    all: list[float] = field(default_factory=list)  # seconds until every client had it
    first: list[float] = field(default_factory=list)
    rss: int = 0
    failed: str = ""

    @property
    def p99_ms(self) -> float:
        return percentile(self.all, 99) * 1000 if self.all else float("inf")

    @property
    def held(self) -> bool:
        return not self.failed and self.p99_ms < TARGET_MS


def measure_channel(tmp: Path, trials: int, max_clients: int, receivers: int,
                    progress: Progress) -> list[Holding]:
    """A channel process on PostgreSQL; N clients, ``trials`` logouts at each N."""
    from tests.support.postgres import running_postgres

    raise_open_files()
    context = multiprocessing.get_context("fork")
    with running_postgres() as postgres:
        database = postgres.database()
        run_dir = tmp / "run"
        env = service_env(run_dir, database)
        cli(env, "init")
        credential = cli(env, "clients", "add", "load-receivers")
        pipes, processes = [], []
        with channel_process(env, tmp / "channel.log") as (channel, port):
            for _ in range(receivers):
                mine, theirs = context.Pipe()
                process = context.Process(target=receiver, daemon=True,
                                          args=(theirs, f"ws://{stack.HOST}:{port}",
                                                credential))
                process.start()
                pipes.append(mine)
                processes.append(process)
            app = create_app({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DATABASE_URL": database,
                              "LOGIN_DEBUG": True})
            state = app.extensions["flask_modular_login"]
            try:
                return _hold(state, pipes, channel.pid, trials, max_clients, progress)
            finally:
                for pipe in pipes:
                    with contextlib.suppress(OSError):
                        pipe.send(("stop",))
                for process in processes:
                    process.join(30)
                    if process.is_alive():
                        process.kill()
                state.store.dispose()


def _hold(state: object, pipes: list[Connection], channel_pid: int, trials: int,
          max_clients: int, progress: Progress) -> list[Holding]:
    sessions = state.services.sessions  # type: ignore[attr-defined]
    user = state.store.accounts.login("test", "load-logout", "load-logout",  # type: ignore[attr-defined]
                                      None, int(time.time()))
    results: list[Holding] = []
    connected = 0
    for clients in [n for n in CLIENTS if n <= max_clients]:
        holding = Holding(clients)
        results.append(holding)
        more = clients - connected
        for number, pipe in enumerate(pipes):
            pipe.send(("connect", more // len(pipes) + (number < more % len(pipes))))
        for pipe in pipes:
            answer = pipe.recv() if pipe.poll(300) else ("failed", "no answer in 300 s")
            if answer[0] != "connected":
                holding.failed = f"connecting: {answer[1]}"
        if holding.failed:
            progress(f"load b: {clients} clients: {holding.failed}")
            break
        connected = clients
        time.sleep(2.5)  # a heartbeat out on every connection
        progress(f"load b: {clients} clients connected")
        for number in range(trials + 3):  # three untimed first
            issued = sessions.start(user.id, "test")
            session_id = issued.lease.session_id
            start = time.monotonic()
            if not sessions.end(session_id, "logout"):
                raise SystemExit("load b: the session did not end")
            firsts, lasts = [], []
            for pipe in pipes:
                deadline = start + 10
                while True:
                    if not pipe.poll(max(0.0, deadline - time.monotonic())):
                        holding.failed = "a revocation did not reach every client in 10 s"
                        break
                    answer = pipe.recv()
                    if answer[0] == "got" and answer[1] == session_id:
                        firsts.append(answer[2])
                        lasts.append(answer[3])
                        break
                if holding.failed:
                    break
            if holding.failed:
                break
            if number >= 3:
                holding.all.append(max(lasts) - start)
                holding.first.append(min(firsts) - start)
            time.sleep(0.02)
        holding.rss = rss(channel_pid)
        progress(f"load b: {clients} clients: p99 {holding.p99_ms:.1f} ms {holding.failed}")
        if not holding.held:
            break
    return results


# --------------------------------------------------------------------------- report


def report(renewals: Renewals | None, holdings: list[Holding] | None) -> list[str]:
    """Print both measures; what was missed (a figure that could not be measured)."""
    missed = []
    ms = 1000.0
    if renewals is not None:
        print("\nLoad held a. Lease renewals on one login-service process (uwsgi, 1 process, "
              "1 thread, SQLite) behind nginx;\n   open-loop GET /login/me at fixed rates, "
              "latency from the scheduled send time")
        print()
        head = (f"   {'rate/s':>7} {'sent':>6} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} "
                f"{'max ms':>7} {'lag p99':>7} {'CPU %':>6}  held")
        print(head)
        print("   " + "-" * (len(head) - 3))
        for step in renewals.steps:
            sent = len(step.latencies) + sum(step.errors.values())
            times = " ".join(f"{percentile(step.latencies, p) * ms:>7.1f}" for p in (50, 99, 100)) \
                if step.latencies else f"{'-':>7} {'-':>7} {'-':>7}"
            lag = percentile(step.lags, 99) * ms if step.lags else 0.0
            print(f"   {step.rate:>7.0f} {sent:>6} {sum(step.errors.values()):>6} {times} "
                  f"{lag:>7.1f} {100 * step.cpu / step.seconds:>6.0f}  "
                  f"{'yes' if step.held else 'no'}"
                  + (f"  ({', '.join(f'{k} x{v}' for k, v in step.errors.items())})"
                     if step.errors else ""))
            if lag > LAG_WARNING_MS:
                print(f"   (at {step.rate:.0f}/s the generator itself sent {lag:.0f} ms late "
                      "at p99: the machine, not only the service, was saturated)")
        best = renewals.best
        print(f"\n   a. highest renewal rate held with p99 < {TARGET_MS:g} ms: "
              + (f"{best.rate:,.0f}/s (p99 {best.p99_ms:.1f} ms)" if best else "none"))
        if best is None:
            missed.append("renewals: no rate held")
    if holdings is not None:
        print("\nLoad held b. Remote clients on one channel process (PostgreSQL, NOTIFY); "
              "a logout until every client\n   has its revocation")
        print()
        head = (f"   {'clients':>7} {'trials':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
                f"{'first p50':>9} {'RSS MiB':>8}  held")
        print(head)
        print("   " + "-" * (len(head) - 3))
        for holding in holdings:
            times = " ".join(f"{percentile(holding.all, p) * ms:>7.1f}" for p in (50, 99, 100)) \
                if holding.all else f"{'-':>7} {'-':>7} {'-':>7}"
            first = f"{percentile(holding.first, 50) * ms:>9.1f}" if holding.first else \
                f"{'-':>9}"
            print(f"   {holding.clients:>7,} {len(holding.all):>6} {times} {first} "
                  f"{holding.rss / 1048576:>8.1f}  {'yes' if holding.held else 'no'}"
                  + (f"  ({holding.failed})" if holding.failed else ""))
        held = [h for h in holdings if h.held]
        best_n = max((h.clients for h in held), default=0)
        capped = bool(holdings) and holdings[-1].held
        print(f"\n   b. most remote clients held with revocation p99 < {TARGET_MS:g} ms: "
              + (f"{best_n:,}" + (" (the cap: more were not tried)" if capped else "")
                 if best_n else "none"))
        if not best_n:
            missed.append("channel: no number of clients held")
    return missed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("load suite")
    group.add_argument("--step-seconds", type=float,
                       help="seconds at each fixed rate (default 5, --quick 3)")
    group.add_argument("--trials", type=int,
                       help="logouts at each number of clients (default 100, --quick 20)")
    group.add_argument("--max-clients", type=int,
                       help="the most remote clients tried (default 4000, --quick 1000)")
    group.add_argument("--receivers", type=int, default=2,
                       help="processes holding the remote clients' connections (2)")
    group.add_argument("--measure", choices=("renewals", "channel"),
                       help="one of the two measures only")


def run(args: argparse.Namespace) -> int:
    """The ``load`` suite; 1 if ``--check`` and a measure found nothing held."""
    quick = getattr(args, "quick", False)
    seconds = args.step_seconds or (3.0 if quick else 5.0)
    trials = args.trials or (20 if quick else 100)
    max_clients = args.max_clients or (1000 if quick else 4000)
    if min(seconds, trials, max_clients, args.receivers) <= 0:
        raise SystemExit("load suite: every size must be positive")
    stack.require_programs()

    def progress(line: str) -> None:
        if not getattr(args, "silent", False):
            print(line, file=sys.stderr, flush=True)

    renewals = holdings = None
    with tempfile.TemporaryDirectory(prefix="login-load-") as name:
        tmp = Path(name)
        tmp.chmod(0o755)  # nginx's workers reach the sockets below (the run dirs stay 0700)
        if args.measure in (None, "renewals"):
            (tmp / "a").mkdir()
            renewals = measure_renewals(tmp / "a", seconds, 1 if quick else 2, progress)
        if args.measure in (None, "channel"):
            (tmp / "b").mkdir()
            holdings = measure_channel(tmp / "b", trials, max_clients, args.receivers,
                                       progress)
    missed = report(renewals, holdings)
    print("\nload suite: " + ("both figures measured." if not missed
                              else f"MISSED: {'; '.join(missed)}."))
    return 1 if getattr(args, "check", False) and missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter steps, fewer trials")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a measure held at no rate or number at all")
    parser.add_argument("-q", "--silent", action="store_true", help="no progress lines")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
