"""The channel benchmark (benchmarks/channel.py) still runs: every measure at a tiny size.

A smoke test only: it checks that the suite runs end to end and reports each measure;
it never asserts on a time or a size (benchmarks are not tests).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

import pytest

from tests.support.servers import ROOT

BENCHMARKS = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """benchmarks/channel.py as a module (it imports benchmarks/environment.py, which drops
    ``LOGIN_...`` variables: they are put back)."""
    saved = {key: value for key, value in os.environ.items() if key.startswith("LOGIN_")}
    had_environment = "environment" in sys.modules
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("bench_channel", BENCHMARKS / "channel.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
        if not had_environment:
            sys.modules.pop("environment", None)
        os.environ.update(saved)
    return module


def test_the_quick_suite_runs_at_a_tiny_size(bench, capsys):
    status = bench.main(["--quick", "-q", "--rounds", "1", "--requests", "8",
                         "--renewals", "5", "--logouts", "3", "--remote-clients", "3",
                         "--connections", "3", "--settle", "0.1"])
    out = capsys.readouterr().out
    assert status == 0  # without --check the exit code does not depend on the figures
    assert "RPCs over the channel by the remote variant while timed: 0" in out
    for measure in ("remote request, valid lease, vs bare", "lease renewal over loopback",
                    "logout until 3 clients refuse", "memory per client (3 on one process)"):
        assert measure in out


def test_the_percentiles_are_nearest_rank(bench):
    values = [float(n) for n in range(1, 201)]
    assert bench.percentile(values, 50) == 100.0
    assert bench.percentile(values, 99) == 198.0
    assert bench.percentile(values, 100) == 200.0
    assert bench.percentile([3.0], 99) == 3.0
