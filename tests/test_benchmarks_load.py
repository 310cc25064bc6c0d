"""The load benchmark (benchmarks/load.py) still runs, at a tiny size, with real nginx, uwsgi,
PostgreSQL and the channel process. A smoke test: it never asserts on a figure (benchmarks are
not tests), only that both measures ran, every request was answered and both were reported;
and that the open-loop generator's search between a rate held and one missed halves the gap."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import ROOT


def test_both_measures_run_at_a_tiny_size():
    for program, path in (("nginx", "/usr/sbin/nginx"),
                          ("uwsgi", str(Path(sys.prefix) / "bin" / "uwsgi"))):
        if not (shutil.which(program) or Path(path).exists()):
            message = f"{program} is not installed (sh server.sh test installs it as root)"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    done = subprocess.run([sys.executable, "benchmarks/load.py", "--quick", "--step-seconds",
                           "1", "--trials", "3", "--max-clients", "100", "-q"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "Load held a. Lease renewals on one login-service process" in out
    first = re.search(r"^ +100 +(\d+) +(\d+) ", out, re.MULTILINE)  # the first rate, 100/s
    assert first and int(first.group(1)) == 100 and first.group(2) == "0", out
    assert re.search(r"a\. highest renewal rate held with p99 < 50 ms: ", out), out
    assert "Load held b. Remote clients on one channel process" in out
    row = re.search(r"^ +100 +3 +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ ", out, re.MULTILINE)
    assert row, out  # 100 clients, 3 logouts each heard by all of them
    assert "b. most remote clients held with revocation p99 < 50 ms: " in out


def test_the_search_halves_the_gap_between_held_and_missed():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    saved = {key: value for key, value in os.environ.items() if key.startswith("LOGIN_")}
    loaded = set(sys.modules)
    try:
        spec = importlib.util.spec_from_file_location("bench_load", ROOT / "benchmarks" / "load.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
        os.environ.update(saved)
        for name in {"environment", "stack", "deployment", "channel", "apps", "route",
                     "bench_load"} - loaded:  # the benchmarks' top-level modules
            sys.modules.pop(name, None)
    trying = module.rates_to_try(400, 600, 3)
    assert next(trying) == 500
    assert trying.send(True) == 550  # 500 held: between 500 and 600
    assert trying.send(False) == 525  # 550 missed: between 500 and 550
    with pytest.raises(StopIteration):
        trying.send(True)
