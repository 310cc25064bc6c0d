"""Start real processes on 127.0.0.1 for end-to-end tests, and always stop them."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0,
                  output: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            if output is not None:
                out += output.read_text(errors="replace")[-4000:]
            pytest.fail(f"process exited with {process.returncode} before listening:\n{out}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    pytest.fail(f"nothing listened on 127.0.0.1:{port} within {timeout} s")


@contextlib.contextmanager
def running(args: Sequence[str], port: int, env: Mapping[str, str] | None = None,
            cwd: Path = ROOT, log: Path | None = None) -> Iterator[subprocess.Popen]:
    """Run ``args`` until the block ends; fails the test if it never listens on ``port``.

    Its output goes to the file ``log`` (appended), by default a temporary file removed
    afterwards: never a pipe, which a busy process would fill and then block on."""
    with contextlib.ExitStack() as stack:
        if log is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="proc-")))
            log = directory / "output.log"
        with open(log, "a") as output:
            process = subprocess.Popen(
                list(args), cwd=cwd, env={**os.environ, **(env or {})}, text=True,
                stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, process, output=log)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def until(predicate: Callable[[], object], timeout: float, what: str,
          interval: float = 0.002) -> float:
    """Wait until ``predicate()`` is true (bounded: fails the test after ``timeout``
    seconds, naming ``what``); returns how long it took."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            pytest.fail(f"{what} within {timeout} s")
        time.sleep(interval)
    return time.monotonic() - start

