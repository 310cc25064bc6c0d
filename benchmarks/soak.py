"""The soak: a whole deployment under mixed traffic for a while; errors, latencies, leaks.

Run from the repository root with the project's virtual environment (needs nginx and
uwsgi; ``sh server.sh soak`` installs what is missing as root)::

    python benchmarks/soak.py                           # 50 clients, 60 s
    python benchmarks/soak.py --seconds 10 --clients 10 --check

Real processes on 127.0.0.1 (benchmarks/stack.py): nginx; the login service under uwsgi
(as uwsgi.ini: ``--service-processes`` 2 of ``--service-threads`` 2, SQLite in a new run
dir); a client app (``LoginBuilder`` over the same run dir) under its own uwsgi; the
channel process; and, in this process, ``--remote-clients`` remote client apps
(``RemoteLoginInterface``, each its own channel connection) and ``--clients`` simulated
people, each a thread with its own keep-alive connection, doing one operation at a time
with a random pause (mean ``--think``) between two, after ``--warmup`` seconds of the same
traffic that are not counted:

* ``client app``: a page of the client app with a valid lease (200);
* ``renewal``: ``GET /login/me`` with the person's lease, run out (200, a new lease);
* ``group check``: a remote client app asks whether the person is in a group (RPC or cache;
  the answer must be the truth: half the people are members);
* ``invite`` (``POST /login/access/invite``, the person owns a group), then a new person
  logs in (``login``), redeems it (``redeem``) and logs out (``logout``);
* ``logout`` of the person, then ``revoked everywhere`` (until every remote client app and
  the client app refuse the old lease), then a new ``login``.

It prints, and checks with ``--check`` (exit 1 if missed): no errors (counted by
operation); p50/p99 per operation; the RSS of the service, the client app and the channel
at the 10th second (or half-way in a shorter run) and at the end, growth **< 10%** for the
service and the channel; their open file descriptors at the start and at the end (no
more than ``FD_SLACK`` new ones at the end, the store's pooled connections apart). See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import stack  # benchmarks/stack.py (prepares the environment first)
from stack import JSON, Browser, Stack, expired_token, open_files, rss

from channel import percentile  # benchmarks/channel.py
from flask_modular_login import RemoteLoginInterface, create_app, keystore
from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.protocol.auth import new_credential, parse_credential

GROWTH_TARGET = 0.10  # RSS growth, 10th second -> end
FD_SLACK = 2  # more open files at the end than at the start that are not a leak
STORE_FILE = re.compile(r"/users\.db(-wal|-shm|-journal)?$")
"""The store's files: a connection more in the pool opens them again, up to the pool's size
(beyond it a request fails and is counted as an error), so they are not counted as a leak."""
MEMBERS = GroupPath("soak-members", ())
WEIGHTS = {"client app": 40, "renewal": 20, "group check": 20, "invite": 10, "logout": 10}
REVOKED_WITHIN = 10.0  # seconds a logout may take to reach every client app
MEASURED = ("service", "client app", "channel")


@dataclass
class Tally:
    """What the people did: latencies and errors by operation (thread-safe)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    messages: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, operation: str, action: Callable[[], object]) -> object:
        """Run ``action``; its time under ``operation``, or an error if it raised."""
        start = time.perf_counter()
        try:
            result = action()
        except Exception as error:
            self.error(operation, f"{type(error).__name__}: {error}")
            raise Failed from error
        self.add(operation, time.perf_counter() - start)
        return result

    def add(self, operation: str, seconds: float) -> None:
        with self.lock:
            self.latencies[operation].append(seconds)

    def error(self, operation: str, message: str) -> None:
        with self.lock:
            self.errors[operation] += 1
            if len(self.messages) < 20:
                self.messages.append(f"{operation}: {message}")


class Failed(Exception):
    """An operation failed (already counted): the person starts over."""


def expect(answer: stack.Answer, status: int, what: str) -> stack.Answer:
    if answer.status != status:
        raise RuntimeError(f"{what}: {answer.status}, not {status}: {answer.body[:200]!r}")
    return answer


# --------------------------------------------------------------------------- the people


@dataclass
class World:
    """What the people share: the stack, the keys, the remote client apps, the tally."""

    stack: Stack
    keys: keystore.Keys
    remotes: list[RemoteLoginInterface]
    members: set[str]  # user ids in MEMBERS
    tally: Tally = field(default_factory=Tally)
    newcomers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def newcomer(self) -> str:
        with self.lock:
            self.newcomers += 1
            return f"soak-new-{self.newcomers}"


class Person:
    """One simulated person: a browser on the service, one on the client app, a group
    they own (``soak-N``)."""

    def __init__(self, world: World, number: int, seed: int) -> None:
        self.world = world
        self.name = f"soak-{number}"
        self.group = GroupPath(self.name, ())
        self.random = random.Random(seed)
        self.service = Browser(world.stack.service_port)
        self.app = Browser(world.stack.app_port)
        self.user_id = ""

    def log_in(self) -> None:
        tally = self.world.tally
        tally.timed("login", lambda: self.service.login(self.name))
        self.user_id = self.service.get("/login/", JSON).json()["user"]["id"]

    def step(self) -> None:
        operation = self.random.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
        {"client app": self.client_app, "renewal": self.renewal,
         "group check": self.group_check, "invite": self.invite,
         "logout": self.logout}[operation]()

    def client_app(self) -> None:
        cookies = {"login": self.service.cookies["login"]}
        self.world.tally.timed("client app", lambda: expect(
            self.app.get("/hidden", cookies=cookies), 200, "client app page"))

    def renewal(self) -> None:
        expired = expired_token(self.service.cookies["login"], self.world.keys)
        self.service.cookies["login"] = expired

        def renew() -> None:
            answer = expect(self.service.get("/login/me", JSON), 200, "GET /login/me")
            if self.service.cookies.get("login") in (None, expired) or not any(
                    c.startswith("login=") for c in answer.set_cookies):
                raise RuntimeError("GET /login/me did not renew the lease")

        self.world.tally.timed("renewal", renew)

    def group_check(self) -> None:
        remote = self.random.choice(self.world.remotes)
        allowed = self.world.tally.timed(
            "group check", lambda: remote.access.evaluate(MEMBERS, self.user_id).allowed)
        if allowed != (self.user_id in self.world.members):
            self.world.tally.error("group check", f"wrong answer {allowed} for {self.name}")

    def invite(self) -> None:
        tally = self.world.tally
        created = tally.timed("invite", lambda: expect(self.service.post_json(
            "/login/access/invite", {"group": str(self.group), "accepts": 1}), 201,
            "POST /login/access/invite"))
        code = created.json()["code"]  # type: ignore[attr-defined]
        guest = Browser(self.world.stack.service_port)
        try:
            tally.timed("login", lambda: guest.login(self.world.newcomer()))
            tally.timed("redeem", lambda: expect(guest.post_json(
                f"/login/access/accept/{code}", {}), 200, "POST /login/access/accept"))
            tally.timed("logout", lambda: expect(guest.post_json("/login/logout", {}), 200,
                                                 "POST /login/logout"))
        finally:
            guest.close()

    def logout(self) -> None:
        token = self.service.cookies["login"]
        tally = self.world.tally
        tally.timed("logout", lambda: expect(self.service.post_json("/login/logout", {}), 200,
                                             "POST /login/logout"))
        if "login" in self.service.cookies:
            tally.error("logout", "the login cookie was not cleared")
        tally.timed("revoked everywhere", lambda: self.wait_refused(token))
        self.log_in()

    def wait_refused(self, token: str) -> None:
        """Until every remote client app and the client app refuse ``token``."""
        deadline = time.monotonic() + REVOKED_WITHIN
        pending = list(self.world.remotes)
        while pending:
            pending = [r for r in pending if r.authenticate(token).user is not None]
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(pending)} remote client apps still accept the lease")
            time.sleep(0.002)
        while self.app.get("/hidden", cookies={"login": token}).status == 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the client app still accepts the lease")
            time.sleep(0.01)

    def run(self, until: float, think: float) -> None:
        while time.monotonic() < until:
            try:
                if not self.service.cookies.get("login"):
                    self.log_in()
                self.step()
            except Failed:
                self.service.cookies.clear()  # start over: log in again
            except Exception as error:  # not an operation of ours: still counted
                self.world.tally.error("other", f"{type(error).__name__}: {error}")
                self.service.cookies.clear()
            time.sleep(self.random.uniform(0, 2 * think))
        self.service.close()
        self.app.close()


# --------------------------------------------------------------------------- the run


@dataclass
class Sample:
    at: float  # seconds since the traffic started
    rss: dict[str, int]
    files: dict[str, int]
    kinds: dict[str, Counter[str]]  # what the open files are: a path, "socket", "pipe"...


def sample(pids: dict[str, list[int]], at: float) -> Sample:
    """RSS and open files of each kind of process (of all its workers together)."""
    return Sample(at, {n: sum(map(rss, ps)) for n, ps in pids.items()},
                  {n: sum(map(open_files, ps)) for n, ps in pids.items()},
                  {n: sum((file_kinds(p) for p in ps), Counter()) for n, ps in pids.items()})


def file_kinds(pid: int) -> Counter[str]:
    """Process ``pid``'s open files by what they are (``socket:[123]`` counts as ``socket``)."""
    kinds: Counter[str] = Counter()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            kinds[re.sub(r":\[\d+\]$", "", os.readlink(fd))] += 1
    return kinds


def prepare(world_stack: Stack, clients: int, remote_count: int) -> World:
    """The groups (each person owns one; half are in MEMBERS) and the remote client apps."""
    app = create_app({"LOGIN_RUN_DIR": str(world_stack.run_dir), "LOGIN_DEBUG": True})
    store = app.extensions["flask_modular_login"].store
    now = int(time.time())
    store.access.ensure_group(MEMBERS, now)
    members = set()
    for number in range(clients):
        name = f"soak-{number}"
        store.access.ensure_group(GroupPath(name, ()), now, owner=("test", name))
        user = store.accounts.login("test", name, name, None, now)
        if number % 2 == 0:
            store.access.add_member(MEMBERS, user.id, now)
            members.add(user.id)
    remotes = []
    for number in range(remote_count):
        credential = new_credential(f"soak-remote-{number}", secrets.token_bytes(32))
        store.clients.add(f"soak-remote-{number}", parse_credential(credential)[1], now)
        remote = RemoteLoginInterface(world_stack.service_url, world_stack.channel_uri,
                                      credential)
        if not remote.channel.wait_ready(10):
            raise SystemExit(f"remote client app {number} did not connect within 10 s")
        remote.access.ensure_namespaces([MEMBERS])
        remotes.append(remote)
    store.dispose()
    keys = keystore.load(world_stack.run_dir / "keys")
    return World(world_stack, keys, remotes, members)


def traffic(people: list[Person], until: float, think: float) -> list[threading.Thread]:
    """Every person at work until ``until`` (``time.monotonic()``), each in a thread."""
    threads = [threading.Thread(target=p.run, args=(until, think), daemon=True, name=p.name)
               for p in people]
    for thread in threads:
        thread.start()
    return threads


def soak(tmp: Path, seconds: float, clients: int, remote_count: int, think: float,
         warmup: float,
         service: tuple[int, int], progress: Callable[[str], None]) -> Report:
    """``service``: the login service's uwsgi processes and threads."""
    with Stack.run(tmp, service_processes=service[0], service_threads=service[1]) as running:
        world = prepare(running, clients, remote_count)
        try:
            people = [Person(world, n, seed=n) for n in range(clients)]
            progress(f"soak: {clients} people, {warmup:g} s of warm-up")
            for thread in traffic(people, time.monotonic() + warmup, think):
                thread.join()  # pools, caches, imports: as full as the traffic makes them
            world.tally = Tally()  # the warm-up's figures are not the soak's
            start = sample(running.pids, 0.0)
            began = time.monotonic()
            until = began + seconds
            threads = traffic(people, until, think)
            early_at = min(10.0, seconds / 2)
            time.sleep(max(0.0, began + early_at - time.monotonic()))
            early = sample(running.pids, time.monotonic() - began)
            progress(f"soak: {early.at:.0f} s, {sum(map(len, world.tally.latencies.values()))}"
                     " operations so far")
            for thread in threads:
                thread.join(max(1.0, until - time.monotonic()) + REVOKED_WITHIN + 30)
            stuck = [t.name for t in threads if t.is_alive()]
            if stuck:
                world.tally.error("other", f"{len(stuck)} people did not stop: {stuck[:5]}")
            took = time.monotonic() - began
            time.sleep(1.0)  # connections closed by the people are closed on both ends
            end = sample(running.pids, took)
        finally:
            for remote in world.remotes:
                remote.close()
    return Report(world.tally, clients, remote_count, took, start, early, end)


# --------------------------------------------------------------------------- report


@dataclass
class Report:
    tally: Tally
    clients: int
    remotes: int
    seconds: float
    start: Sample
    early: Sample
    end: Sample

    def growth(self, name: str) -> float:
        return self.end.rss[name] / self.early.rss[name] - 1

    def leaked(self, name: str) -> int:
        """Files process ``name`` opened since the start and still holds, but the store's."""
        grown = self.end.kinds[name] - self.start.kinds[name]
        return sum(count for kind, count in grown.items() if not STORE_FILE.search(kind))

    def missed(self) -> list[str]:
        missed = []
        errors = sum(self.tally.errors.values())
        if errors:
            missed.append(f"{errors} errors")
        if not self.tally.latencies:
            missed.append("no operation ran")
        for name in ("service", "channel"):
            if self.growth(name) >= GROWTH_TARGET:
                missed.append(f"{name} RSS grew {self.growth(name):.1%}")
        for name in MEASURED:
            if self.leaked(name) > FD_SLACK:
                missed.append(f"{name} open files {self.start.files[name]} -> "
                              f"{self.end.files[name]}")
        return missed

    def print(self) -> None:
        ms, mib = 1000.0, 1024 * 1024
        total = sum(len(v) for v in self.tally.latencies.values())
        errors = sum(self.tally.errors.values())
        print(f"\nSoak: {self.clients} people, {self.remotes} remote client apps, "
              f"{self.seconds:.0f} s; {total:,} operations ({total / self.seconds:,.0f}/s), "
              f"{errors} errors")
        print()
        head = f"{'operation':<20} {'count':>7} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} " \
               f"{'max ms':>8}"
        print(head)
        print("-" * len(head))
        names = sorted(set(self.tally.latencies) | set(self.tally.errors),
                       key=lambda n: (n not in WEIGHTS and n != "login", n))
        for name in names:
            values = self.tally.latencies.get(name, [])
            timing = " ".join(f"{percentile(values, p) * ms:>8.2f}" for p in (50, 99, 100)) \
                if values else f"{'-':>8} {'-':>8} {'-':>8}"
            print(f"{name:<20} {len(values):>7,} {self.tally.errors.get(name, 0):>6} {timing}")
        for message in self.tally.messages:
            print(f"  error: {message}")
        print()
        early = f"RSS at {self.early.at:.0f} s"
        head = f"{'process':<12} {early:>12} {'RSS at end':>12} {'growth':>8} " \
               f"{'files start':>11} {'files end':>9}"
        print(head)
        print("-" * len(head))
        for name in MEASURED:
            target = " (target < 10%)" if name != "client app" else ""
            print(f"{name:<12} {self.early.rss[name] / mib:>8.1f} MiB "
                  f"{self.end.rss[name] / mib:>8.1f} MiB {self.growth(name):>+8.1%} "
                  f"{self.start.files[name]:>11} {self.end.files[name]:>9}{target}")
        for name in MEASURED:
            grown = self.end.kinds[name] - self.start.kinds[name]
            if grown:
                print(f"  {name}: opened since the start: "
                      + ", ".join(f"{kind} x{count}" for kind, count in grown.items())
                      + ("" if self.leaked(name) else " (the store's pool: not a leak)"))
        missed = self.missed()
        print()
        print("soak: " + ("every target met (no errors, RSS growth < 10%, no descriptor "
                          "leak)." if not missed else "MISSED: " + "; ".join(missed) + "."))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="traffic time (60)")
    parser.add_argument("--clients", type=int, default=50, help="simulated people (50)")
    parser.add_argument("--remote-clients", type=int, default=4,
                        help="remote client apps on the channel (4)")
    parser.add_argument("--think", type=float, default=0.5,
                        help="mean pause of a person between two operations, s (0.5)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds of the same traffic before the soak, not counted (3)")
    parser.add_argument("--service-processes", type=int, default=2,
                        help="processes of the service's uwsgi (2, as uwsgi.ini)")
    parser.add_argument("--service-threads", type=int, default=2,
                        help="threads of each (2, as uwsgi.ini)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("-q", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    sizes = (args.seconds, args.clients, args.remote_clients, args.service_processes,
             args.service_threads)
    if min(sizes) <= 0 or args.think < 0 or args.warmup < 0:
        parser.error("every size must be positive")
    stack.require_programs()

    def progress(line: str) -> None:
        if not args.q:
            print(line, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="login-soak-") as name:
        report = soak(Path(name), args.seconds, args.clients, args.remote_clients, args.think,
                      args.warmup,
                      (args.service_processes, args.service_threads), progress)
    report.print()
    return 1 if args.check and report.missed() else 0


if __name__ == "__main__":
    sys.exit(main())
