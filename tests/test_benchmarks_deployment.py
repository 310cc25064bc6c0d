"""The deployment benchmark (benchmarks/deployment.py) still runs, at a tiny size, with
real nginx, uwsgi, wrk, PostgreSQL and memcached. A smoke test: it never asserts on a
figure (benchmarks are not tests), only that each measure ran and was reported."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import ROOT


def test_the_deployment_suite_runs_at_a_tiny_size():
    for program in ("wrk", "nginx", "memcached"):
        if not (shutil.which(program) or Path(f"/usr/sbin/{program}").exists()):
            message = f"{program} is not installed (sh server.sh test installs it as root)"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    done = subprocess.run(
        [sys.executable, "benchmarks/deployment.py", "--rounds", "1", "--seconds", "1",
         "--users", "20", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for heading in ("1. A client route through nginx and uwsgi",
                    "2. Lease renewals on one login-service process",
                    "3. Group checks from a remote client app through the channel"):
        assert heading in done.stdout
    for variant in ("ours: login_required", "Flask-Login", "SQLite", "PostgreSQL + memcached",
                    "cold (an RPC each", "warm (the client's cache)"):
        assert variant in done.stdout
