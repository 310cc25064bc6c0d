"""What ``import flask_modular_login`` costs a client app, as a ratio to ``import flask``.

Run from the repository root with the project's virtual environment::

    python benchmarks/imports.py               # 21 fresh interpreters per variant, ~10 s
    python benchmarks/imports.py --runs 41 --check

Each run is a fresh interpreter (``python -c "import flask"``, then the same with
``flask_modular_login``, interleaved, after one warm-up each so that bytecode is
cached), in an empty directory, without ``LOGIN_...`` variables. Two ratios, medians
over the runs:

* **process**: wall time of the whole interpreter run (start-up included), ours
  over Flask's; the target is **≤ 2.0**;
* **import only**: the import's own cumulative time as ``python -X importtime``
  reports it (no interpreter start-up), ours over Flask's; also held to ≤ 2.0.

It also lists which of the login service's and the channel's libraries the import
loaded (there should be none: the server and the remote client load on first use).
``--check`` exits 1 if a ratio is above the target or such a library was loaded.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 2.0
SOURCE = Path(__file__).resolve().parent.parent / "src"
HEAVY = ("flask_dance", "oauthlib", "qrcode", "alembic", "websockets", "aiohttp")
_CUMULATIVE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)$")


def environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGIN_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE), env.get("PYTHONPATH")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def process_seconds(module: str, cwd: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], cwd=cwd, env=env, check=True)
    return time.perf_counter() - start


def import_microseconds(module: str, cwd: str, env: dict[str, str]) -> int:
    """The cumulative time ``-X importtime`` gives the top-level import of ``module``."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                          cwd=cwd, env=env, check=True, capture_output=True, text=True)
    for line in done.stderr.splitlines():
        match = _CUMULATIVE.match(line)
        if match and match.group(2) == module:
            return int(match.group(1))
    raise RuntimeError(f"no importtime line for {module}")


def heavy_modules(cwd: str, env: dict[str, str]) -> list[str]:
    probe = ("import sys, flask_modular_login; "
             "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, env=env, check=True,
                          capture_output=True, text=True)
    return sorted(set(done.stdout.split()) & set(HEAVY))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="interpreters per variant")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    env = environ()
    modules = ("flask", "flask_modular_login")
    with tempfile.TemporaryDirectory() as cwd:
        for module in modules:  # warm-up: bytecode cached, files in the page cache
            process_seconds(module, cwd, env)
        seconds: dict[str, list[float]] = {m: [] for m in modules}
        micros: dict[str, list[int]] = {m: [] for m in modules}
        for _ in range(args.runs):
            for module in modules:
                seconds[module].append(process_seconds(module, cwd, env))
                micros[module].append(import_microseconds(module, cwd, env))
        loaded = heavy_modules(cwd, env)
    process = {m: statistics.median(seconds[m]) for m in modules}
    imported = {m: statistics.median(micros[m]) for m in modules}
    process_ratio = process["flask_modular_login"] / process["flask"]
    import_ratio = imported["flask_modular_login"] / imported["flask"]
    print(f"Python {sys.version.split()[0]}, medians of {args.runs} fresh interpreters each")
    print(f"{'':28}{'process':>12}{'import only':>14}")
    for module in modules:
        print(f"import {module:21}{process[module] * 1000:9.0f} ms"
              f"{imported[module] / 1000:11.0f} ms")
    print(f"{'ratio (target <= 2.0)':28}{process_ratio:12.2f}{import_ratio:14.2f}")
    print(f"server and channel libraries loaded: {', '.join(loaded) or 'none'}")
    missed = process_ratio > TARGET or import_ratio > TARGET or bool(loaded)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
