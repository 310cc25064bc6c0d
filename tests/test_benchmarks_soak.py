"""The soak (benchmarks/soak.py) runs the whole deployment, real nginx, uwsgi and the channel
process, for 10 s with 10 people, and not one operation fails. Its figures are printed, never
asserted on (benchmarks are not tests): only the errors are."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.servers import ROOT

OPERATIONS = ("client app", "renewal", "group check", "invite", "login", "redeem", "logout",
              "revoked everywhere")


def require(program: str, path: str) -> None:
    if not (shutil.which(program) or Path(path).exists()):
        message = f"{program} is not installed (sh server.sh test installs it as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def test_ten_people_for_ten_seconds_without_an_error():
    require("nginx", "/usr/sbin/nginx")
    require("uwsgi", str(Path(sys.prefix) / "bin" / "uwsgi"))
    done = subprocess.run([sys.executable, "benchmarks/soak.py", "--seconds", "10",
                           "--clients", "10", "--think", "0.2", "-q"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    summary = re.search(r"^Soak: 10 people, 4 remote client apps, \d+ s; ([\d,]+) operations "
                        r"\([\d,]+/s\), (\d+) errors$", out, re.MULTILINE)
    assert summary, out
    assert summary.group(2) == "0", out
    assert int(summary.group(1).replace(",", "")) > 50, out
    for operation in OPERATIONS:  # each one ran, none failed (count, errors, timings)
        row = re.search(rf"^{operation} +([\d,]+) +0 +[\d.]+ +[\d.]+ +[\d.]+$", out,
                        re.MULTILINE)
        assert row and int(row.group(1).replace(",", "")) > 0, f"{operation}:\n{out}"
    for process in ("service", "client app", "channel"):  # RSS twice, files twice
        assert re.search(rf"^{process} +[\d.]+ MiB +[\d.]+ MiB +[+-][\d.]+% +\d+ +\d+", out,
                         re.MULTILINE), out
    assert "soak: every target met" in out or "soak: MISSED" in out


def load_soak() -> ModuleType:
    """benchmarks/soak.py as a module; the ``LOGIN_...`` variables its import drops are put
    back, and the benchmarks' top-level modules it imported are forgotten again."""
    benchmarks = ROOT / "benchmarks"
    saved = {key: value for key, value in os.environ.items() if key.startswith("LOGIN_")}
    loaded = set(sys.modules)
    sys.path.insert(0, str(benchmarks))
    try:
        spec = importlib.util.spec_from_file_location("bench_soak", benchmarks / "soak.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(benchmarks))
        os.environ.update(saved)
        for name in {"environment", "stack", "deployment", "channel", "apps", "route",
                     "bench_soak"} - loaded:
            sys.modules.pop(name, None)
    return module


def test_the_verdict_counts_errors_growth_and_leaked_files_but_not_the_pool():
    soak = load_soak()
    files = Counter({"/tmp/x/run/users.db": 1, "/tmp/x/run/users.db-wal": 1, "socket": 5})

    def report(errors: int = 0, rss_end: int = 100, end_files: Counter | None = None):
        def sample(at: float, rss: int, kinds: Counter):
            counts = {name: sum(kinds.values()) for name in soak.MEASURED}
            return soak.Sample(at, dict.fromkeys(soak.MEASURED, rss), counts,
                               dict.fromkeys(soak.MEASURED, kinds))
        tally = soak.Tally()
        tally.add("renewal", 0.001)
        for _ in range(errors):
            tally.error("renewal", "HTTP 500")
        return soak.Report(tally, 10, 4, 10.0, sample(0, 100, files), sample(5, 100, files),
                           sample(10, rss_end, end_files or files))

    assert report().missed() == []
    assert report(errors=2).missed() == ["2 errors"]
    assert report(rss_end=109).missed() == []
    assert report(rss_end=110).missed() == ["service RSS grew 10.0%", "channel RSS grew 10.0%"]
    pooled = files + Counter({"/tmp/x/run/users.db": 3, "/tmp/x/run/users.db-wal": 3})
    assert report(end_files=pooled).missed() == [], "the store's pool is bounded: no leak"
    assert report(end_files=files + Counter({"socket": 2})).missed() == []
    leaking = report(end_files=files + Counter({"socket": 3, "pipe": 1}))
    assert leaking.missed() == [f"{name} open files 7 -> 11" for name in soak.MEASURED]
