"""The code stays ruff clean (a gate, so CI catches what a reviewer would)."""

from __future__ import annotations

import subprocess
import sys

from tests.support.servers import ROOT


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--quiet",
                             "src", "tests", "benchmarks", "examples"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
