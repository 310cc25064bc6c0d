"""A real memcached for tests, started by the tests themselves and stopped afterwards.

:func:`running_memcached` starts ``memcached`` (on ``PATH`` or ``/usr/bin``) on a
free port of 127.0.0.1 (UDP off), or on a unix socket in a temporary directory.
:meth:`Memcached.kill` stops it with SIGKILL (a crash, mid-run) and
:meth:`Memcached.start` starts it again at the same address, empty. When the
binary is missing the tests are skipped, except with ``CI`` set, where they fail.

Fixtures: ``memcached`` (TCP) and ``memcached_socket`` (unix socket), one fresh
server per test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import free_port

START_TIMEOUT = 10.0


def unavailable(reason: str) -> None:
    """Skip, or fail when ``CI`` is set (a missing memcached must not pass unseen)."""
    if os.environ.get("CI"):
        pytest.fail(f"memcached unavailable in CI: {reason}")
    pytest.skip(f"memcached unavailable: {reason}")


def find_memcached() -> str | None:
    return shutil.which("memcached") or (
        "/usr/bin/memcached" if Path("/usr/bin/memcached").exists() else None)


class Memcached:
    """One memcached process at a fixed address (TCP port or unix socket path)."""

    def __init__(self, binary: str, port: int | None = None,
                 socket_path: Path | None = None) -> None:
        self.binary, self.port, self.socket_path = binary, port, socket_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def spec(self) -> str:
        """The address as ``LOGIN_MEMCACHED`` writes it."""
        return str(self.socket_path) if self.socket_path else f"127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [self.binary, "-U", "0", "-m", "16", "-c", "256"]
        args += ["-s", str(self.socket_path)] if self.socket_path else \
            ["-l", "127.0.0.1", "-p", str(self.port)]
        if os.geteuid() == 0:
            args += ["-u", "root"]  # memcached refuses root without it
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                pytest.fail(f"memcached exited ({self.process.returncode}): {error}")
            with contextlib.suppress(OSError):
                self.stats()
                return
            time.sleep(0.02)
        pytest.fail(f"memcached did not answer within {START_TIMEOUT} s")

    def kill(self) -> None:
        """SIGKILL, as a crash would; the address stays free for :meth:`start`."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        self.process = None
        if self.socket_path:
            self.socket_path.unlink(missing_ok=True)

    def stats(self) -> dict[str, int]:
        """The server's numeric ``stats`` (``get_hits``, ``curr_items``, ...)."""
        family = socket.AF_UNIX if self.socket_path else socket.AF_INET
        address: str | tuple[str, int] = str(self.socket_path) if self.socket_path \
            else ("127.0.0.1", self.port or 0)
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            sock.connect(address)
            sock.sendall(b"stats\r\n")
            data = b""
            while not data.endswith(b"END\r\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    raise OSError("memcached closed the connection")
                data += chunk
        found = {}
        for line in data.decode().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "STAT" and parts[2].isdigit():
                found[parts[1]] = int(parts[2])
        return found


@contextlib.contextmanager
def running_memcached(unix: bool = False) -> Iterator[Memcached]:
    binary = find_memcached()
    if binary is None:
        unavailable("no memcached binary (apt-get install memcached)")
    assert binary is not None
    with tempfile.TemporaryDirectory(prefix="memcached-") as root:
        server = Memcached(binary, port=None if unix else free_port(),
                           socket_path=Path(root) / "memcached.sock" if unix else None)
        server.start()
        try:
            yield server
        finally:
            server.kill()


@pytest.fixture
def memcached() -> Iterator[Memcached]:
    with running_memcached() as server:
        yield server


@pytest.fixture
def memcached_socket() -> Iterator[Memcached]:
    with running_memcached(unix=True) as server:
        yield server
