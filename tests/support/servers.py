"""Start real processes on 127.0.0.1 for end-to-end tests, and always stop them."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            pytest.fail(f"process exited with {process.returncode} before listening:\n{out}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    pytest.fail(f"nothing listened on 127.0.0.1:{port} within {timeout} s")


@contextlib.contextmanager
def running(args: Sequence[str], port: int, env: Mapping[str, str] | None = None,
            cwd: Path = ROOT) -> Iterator[subprocess.Popen]:
    """Run ``args`` until the block ends; fails the test if it never listens on ``port``."""
    process = subprocess.Popen(
        list(args), cwd=cwd, env={**os.environ, **(env or {})}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


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

