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


def test_mypy_finds_nothing():
    """The types check (pyproject.toml [tool.mypy]: strict for the core, the rest as usual)."""
    result = subprocess.run([sys.executable, "-m", "mypy"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
