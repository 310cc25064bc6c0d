"""Access checks at scale: ours (cold: one store query; warm: the cached oracle) vs pycasbin.

Run from the repository root with the project's virtual environment::

    python benchmarks/access.py              # or: python benchmarks/run.py --suite access
    python benchmarks/access.py --samples 20000 --rebuild

One tree of depth 8 with 100,000 groups, 100,000 users with 10 memberships each
(1,000,000; a tenth expired, a tenth expiring in 2100), in a SQLite database with
our schema. The database is built once (about half a minute) and kept under the
temporary directory, keyed by the parameters and the migrations. Every check asks
whether a user may enter one leaf group (depth 7 or 8); half the checks are
for a group below one of the user's memberships. pycasbin enforces the same
hierarchy as RBAC with role inheritance, and both must give the expected answer
for every check. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import environment  # benchmarks/environment.py

environment.prepare()

from flask_modular_login import AccessNamespace  # noqa: E402
from flask_modular_login.client.access import LocalAccess  # noqa: E402
from flask_modular_login.client.events import StoreEventFeed  # noqa: E402
from flask_modular_login.core.groups import evaluate  # noqa: E402
from flask_modular_login.store import open_store  # noqa: E402
from flask_modular_login.store.database import MIGRATIONS  # noqa: E402

ROOT = "bench"
OWNER = ("bench", "owner")  # an identity that owns the root and never logs in
EXPIRED, LATER = 1.0, 4_102_444_800.0  # 1970 and 2100: the same answer whenever it runs
TARGET_COLD_P99 = 1_000.0  # µs
TARGET_WARM = 20.0  # µs
TARGET_RATIO = 10.0
COLD = "ours, cold (one store query)"
ANSWERS = "ours, warm (answers cached)"
WARM = "ours, warm (decision cached)"
CASBIN = "pycasbin enforce (RBAC)"


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    """The tree (group ``i``: ``paths[i]``, ``parent[i]``), and who holds what."""

    paths: list[str]
    parent: list[int]
    fanout: int
    depth: list[int]
    held: list[list[tuple[int, float | None]]]  # per user: (group, expires)

    @property
    def groups(self) -> int:
        return len(self.paths)

    def user(self, n: int) -> str:
        return f"u{n:07d}"

    def active(self, n: int) -> list[int]:
        return [group for group, expires in self.held[n] if expires != EXPIRED]

    def children(self, group: int) -> range:
        first = group * self.fanout + 1
        return range(first, min(first + self.fanout, self.groups))

    def ancestors(self, group: int) -> Iterator[int]:
        while group >= 0:
            yield group
            group = self.parent[group]


def fanout_for(groups: int, depth: int) -> int:
    """The smallest fanout whose breadth-first tree of ``groups`` nodes reaches ``depth``."""
    fanout = 2
    while sum(fanout**level for level in range(depth + 1)) < groups:
        fanout += 1
    if sum(fanout**level for level in range(depth)) >= groups:
        raise SystemExit(f"{groups} groups cannot make a tree of depth exactly {depth}")
    return fanout


def make_world(groups: int, depth: int, users: int, memberships: int, seed: int) -> World:
    fanout = fanout_for(groups, depth)
    paths, parent, depths = [ROOT], [-1], [0]
    for node in range(1, groups):
        up = (node - 1) // fanout
        paths.append(f"{paths[up]}/{(node - 1) % fanout}")
        parent.append(up)
        depths.append(depths[up] + 1)
    rng = random.Random(seed)
    per_user = memberships // users
    held = [[(group, _expiry(rng)) for group in rng.sample(range(groups), per_user)]
            for _ in range(users)]
    return World(paths, parent, fanout, depths, held)


def _expiry(rng: random.Random) -> float | None:
    roll = rng.random()
    return EXPIRED if roll < 0.1 else LATER if roll < 0.2 else None


# --------------------------------------------------------------------------- the database


def database(world: World, key: str, rebuild: bool, say: Callable[[str], None]) -> Path:
    """Our schema filled with ``world``, built once and cached under the temporary directory."""
    folder = Path(tempfile.gettempdir()) / "fml-bench-access"
    folder.mkdir(exist_ok=True)
    path = folder / f"{key}.db"
    if path.exists() and not rebuild:
        return path
    say(f"building {path} (once) ...")
    start = time.perf_counter()
    building = path.with_suffix(".building")
    for stale in folder.glob(f"{key}.building*"):
        stale.unlink()
    open_store(f"sqlite:///{building}", migrate=True).dispose()
    fill(building, world)
    os.replace(building, path)
    say(f"built in {time.perf_counter() - start:.0f} s")
    return path


def fill(path: Path, world: World) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("BEGIN")
    users = range(len(world.held))
    db.executemany("INSERT INTO users VALUES (?, ?, NULL, 0)",
                   ((world.user(n), f"user {n}") for n in users))
    db.executemany("INSERT INTO identities VALUES ('bench', ?, ?, 0)",
                   ((f"s{n}", world.user(n)) for n in users))
    db.executemany("INSERT INTO access_groups VALUES (?, ?, ?, 0)",
                   ((p, ROOT, world.paths[up] if up >= 0 else None)
                    for p, up in zip(world.paths, world.parent, strict=True)))
    db.execute("INSERT INTO group_owners VALUES (?, ?, ?)", (ROOT, *OWNER))
    db.executemany("INSERT INTO memberships VALUES (?, ?, ?, 0, 0, 0, 0, '[]', NULL, 0)",
                   ((world.user(n), world.paths[group], expires)
                    for n in users for group, expires in sorted(world.held[n])))
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()


def cache_key(args: argparse.Namespace) -> str:
    migrations = sorted(p.name for p in (MIGRATIONS / "versions").glob("*.py"))
    text = repr((args.groups, args.depth, args.users, args.memberships, args.seed, migrations))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- the checks


@dataclass(frozen=True)
class Check:
    user: int
    group: int
    expected: bool


def make_checks(world: World, count: int, seed: int) -> list[Check]:
    """Half a leaf below one of the user's active memberships, half a random deepest group."""
    rng = random.Random(seed + 1)
    bottom = max(world.depth)
    deepest = [g for g in range(world.groups) if world.depth[g] == bottom]
    checks = []
    while len(checks) < count:
        user = rng.randrange(len(world.held))
        if len(checks) % 2:
            group = rng.choice(deepest)
        elif world.active(user):
            group = _deep_below(world, rng.choice(world.active(user)), rng)
        else:
            continue
        active = set(world.active(user))
        checks.append(Check(user, group, any(a in active for a in world.ancestors(group))))
    return checks


def _deep_below(world: World, group: int, rng: random.Random) -> int:
    while world.children(group):
        group = rng.choice(world.children(group))
    return group


Ask = tuple[str, object, Check]  # who, the question in the contender's terms, the truth
Contender = tuple[Callable[[str, object], bool], list[Ask]]


def our_asks(world: World, checks: list[Check]) -> list[Ask]:
    namespace = AccessNamespace(ROOT, ownership_method=OWNER[0], owner_id=OWNER[1])
    return [(world.user(c.user), _path(namespace, world.paths[c.group]), c) for c in checks]


def _path(namespace: AccessNamespace, text: str) -> object:
    path = namespace
    for segment in text.split("/")[1:]:
        path = path / segment
    return path


def measure_cold(access: LocalAccess, asks: list[Ask]) -> list[int]:
    """Latencies (ns) of checks that miss the cache: one store query each."""
    for user, path, _check in asks[:100]:
        access.evaluate(path, user)  # warm-up: the namespace is ensured, connections open
    times = []
    with frozen_heap():
        for user, path, check in asks:
            access.cache.clear()
            start = time.perf_counter_ns()
            allowed = access.evaluate(path, user).allowed  # type: ignore[arg-type]
            times.append(time.perf_counter_ns() - start)
            _verify("ours, cold", allowed, check)
    for user, path, _check in asks:
        access.evaluate(path, user)  # the cache holds every answer from here on
    return times


def side_by_side(contenders: dict[str, Contender], rounds: int) -> dict[str, list[int]]:
    """Latencies (ns) per contender, taking turns check by check (same moment, same noise)."""
    times: dict[str, list[int]] = {name: [] for name in contenders}
    count = len(next(iter(contenders.values()))[1])
    with frozen_heap():
        for _ in range(rounds):
            for index in range(count):
                for name, (call, asks) in contenders.items():
                    user, query, check = asks[index]
                    start = time.perf_counter_ns()
                    allowed = call(user, query)
                    times[name].append(time.perf_counter_ns() - start)
                    _verify(name, allowed, check)
    return times


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """No collection of the benchmark's own million-object heap while timing."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _verify(who: str, allowed: bool, check: Check) -> None:
    if allowed != check.expected:
        raise SystemExit(f"{who}: user {check.user} group {check.group} answered {allowed}, "
                         f"expected {check.expected}: refusing to report")


# --------------------------------------------------------------------------- pycasbin


CASBIN_MODEL = """
[request_definition]
r = sub, obj

[policy_definition]
p = sub, obj

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, r.obj)
"""


def casbin_enforcer(world: World):  # type: ignore[no-untyped-def]
    """RBAC with role inheritance: user -> group (membership), group -> each child group
    (the role of a group includes the roles of the groups below it, so access flows down)."""
    import casbin
    from casbin import model

    rules = [[world.paths[world.parent[g]], world.paths[g]] for g in range(1, world.groups)]
    rules += [[world.user(n), world.paths[g]] for n in range(len(world.held))
              for g in world.active(n)]
    text = model.Model()
    text.load_model_from_text(CASBIN_MODEL)
    enforcer = casbin.Enforcer(text)
    enforcer.add_grouping_policies(rules)
    return enforcer, len(rules)


# --------------------------------------------------------------------------- report


def quantiles(ns: list[int]) -> tuple[float, float]:
    """p50 and p99 in µs."""
    cuts = statistics.quantiles(ns, n=100, method="inclusive")
    return cuts[49] / 1000, cuts[98] / 1000


def report(args: argparse.Namespace, world: World, results: dict[str, list[int]],
           links: int | None) -> bool:
    q = {name: quantiles(results[name]) for name in (COLD, ANSWERS, WARM, CASBIN)
         if name in results}
    active = sum(len(world.active(n)) for n in range(len(world.held)))
    print()
    print(f"Access checks: one tree of depth {max(world.depth)}, {world.groups:,} groups "
          f"(fanout {world.fanout}), {args.users:,} users, {args.memberships:,} memberships "
          f"({active:,} active); {args.samples:,} checks of leaf groups, half of them allowed; "
          f"SQLite (OS-cached)")
    print()
    head = f"{'':<34} {'p50 µs':>9} {'p99 µs':>9}   target"
    print(head)
    print("-" * (len(head) + 12))
    targets = {COLD: f"p99 <= {TARGET_COLD_P99:,.0f}", WARM: f"<= {TARGET_WARM:.0f}"}
    for name, (p50, p99) in q.items():
        print(f"{name:<34} {p50:>9.1f} {p99:>9.1f}   {targets.get(name, '')}")
    return verdict(q, links)


def verdict(q: dict[str, tuple[float, float]], links: int | None) -> bool:
    cold, warm = q[COLD], q[WARM]
    met = cold[1] <= TARGET_COLD_P99 and warm[1] <= TARGET_WARM
    print()
    if links is not None:
        casbin = q[CASBIN]
        for label, ours, target in (
                ("warm, decision cached", warm, f" (target >= {TARGET_RATIO:.0f}x)"),
                ("warm, answers cached", q[ANSWERS], ""), ("cold", cold, "")):
            print(f"pycasbin / ours {label}: {casbin[0] / ours[0]:.1f}x at p50, "
                  f"{casbin[1] / ours[1]:.1f}x at p99{target}")
        met = met and casbin[0] / warm[0] >= TARGET_RATIO
        print(f"pycasbin held {links:,} role links.")
    print(f"targets (cold p99 <= 1 ms, warm p99 <= 20 µs, >= 10x pycasbin warm at p50): "
          f"{'all met' if met else 'NOT all met'}")
    return met


# --------------------------------------------------------------------------- main


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("access suite")
    group.add_argument("--groups", type=int, default=100_000, help="groups in the tree")
    group.add_argument("--depth", type=int, default=8, help="depth of the tree")
    group.add_argument("--users", type=int, default=100_000, help="users")
    group.add_argument("--memberships", type=int, default=1_000_000, help="memberships")
    group.add_argument("--samples", type=int, help="checks (default 5000, --quick 1000)")
    group.add_argument("--warm-rounds", type=int, default=3,
                       help="passes over the checks for warm and pycasbin timings (default 3)")
    group.add_argument("--seed", type=int, default=8, help="random seed of the world")
    group.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    group.add_argument("--no-casbin", action="store_true", help="skip pycasbin")


def run(args: argparse.Namespace) -> int:
    """Build (or reuse) the world, measure, print; 1 if ``args.check`` and a target is missed."""
    args.samples = args.samples or (1000 if getattr(args, "quick", False) else 5000)

    def say(line: str) -> None:
        if not getattr(args, "silent", False):
            print(line, file=sys.stderr, flush=True)

    world = make_world(args.groups, args.depth, args.users, args.memberships, args.seed)
    path = database(world, cache_key(args), args.rebuild, say)
    checks = make_checks(world, args.samples, args.seed)
    store = open_store(f"sqlite:///{path}")
    access = LocalAccess(store, StoreEventFeed(store.events, 0.25, time.time))
    asks = our_asks(world, checks)
    say("measuring ours, cold ...")
    results = {COLD: measure_cold(access, asks)}
    contenders: dict[str, Contender] = {
        WARM: (lambda user, path: access.evaluate(path, user).allowed, asks),  # type: ignore
        ANSWERS: (lambda user, path: evaluate(path, user, access.oracle).allowed, asks)}
    enforcer, links = load_casbin(args, world, say)
    if enforcer is not None:
        casbin_asks = [(world.user(c.user), world.paths[c.group], c) for c in checks]
        contenders[CASBIN] = (enforcer.enforce, casbin_asks)
    say("measuring warm checks" + (" and pycasbin, side by side ..." if enforcer else " ..."))
    results.update(side_by_side(contenders, args.warm_rounds))
    store.dispose()
    met = report(args, world, results, links)
    return 1 if getattr(args, "check", False) and not met else 0


def load_casbin(args: argparse.Namespace, world: World,
                say: Callable[[str], None]) -> tuple[object | None, int | None]:
    if args.no_casbin:
        return None, None
    try:
        import casbin  # noqa: F401
    except ModuleNotFoundError:
        say("pycasbin is missing (pip install -e '.[bench]'): no comparison")
        return None, None
    say("loading the same hierarchy into pycasbin ...")
    start = time.perf_counter()
    enforcer, links = casbin_enforcer(world)
    say(f"loaded in {time.perf_counter() - start:.0f} s")
    return enforcer, links


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--quick", action="store_true", help="1000 checks")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("-q", "--silent", action="store_true", help="no progress on stderr")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
