"""A real PostgreSQL for tests, started by the tests themselves and removed afterwards.

:func:`running_postgres` runs ``initdb`` and ``pg_ctl`` from the PostgreSQL
binaries on ``PATH`` or under ``/usr/lib/postgresql/*/bin`` (``sh server.sh test``
installs them), with the data directory in a new temporary directory, listening
on a free port of 127.0.0.1 and on a unix socket in that directory. PostgreSQL
refuses to run as root: then it runs as the unprivileged user ``nobody``
(through ``runuser``), which owns the temporary directory. Durability is off
(``fsync``): the data is thrown away anyway, and ``CREATE DATABASE`` gets fast.

The ``postgres`` fixture shares one server with the whole test session (several
test directories import it; the first use starts it, the session's end stops
it). :meth:`PostgresServer.database` makes a fresh database per test, copied
from a migrated template, so tests never see each other's rows. When the
binaries are missing the tests are skipped, except with ``CI`` set, where they
fail.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.servers import free_port

UNPRIVILEGED = "nobody"
SUPERUSER = "postgres"
"""The database superuser ``initdb`` creates (trust authentication: no password)."""
TEMPLATE = "login_template"
"""A database migrated to head, copied for every test database."""


def unavailable(reason: str) -> None:
    """Skip, or fail when ``CI`` is set (a missing PostgreSQL must not pass unseen)."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL unavailable in CI: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: on PATH, else the newest installed."""
    on_path = shutil.which("initdb")
    if on_path and (Path(on_path).resolve().parent / "pg_ctl").is_file():
        return Path(on_path).resolve().parent  # where postgres itself is too
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


@dataclass
class PostgresServer:
    """One PostgreSQL cluster in ``root`` (``data/``, ``server.log``, the socket)."""

    bindir: Path
    root: Path
    port: int
    user: str | None
    """The OS user it runs as (None: the current one)."""
    _names: Iterator[int] = field(default_factory=itertools.count, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _migrated: bool = field(default=False, repr=False)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` over TCP (psycopg 3)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        # cwd: the unprivileged user may not enter the current directory (e.g. under /root)
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                              cwd=self.root)
        if done.returncode != 0:
            pytest.fail(f"{args[0]} failed ({done.returncode}): {done.stdout}{done.stderr}"
                        f"{self.log()}")
        return done

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.root / "server.log").read_text()[-3000:]
        return ""

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "-E", "UTF8", "--no-locale", "--no-sync")

    def start(self) -> None:
        """Start (again) on the same port and socket directory; returns once it answers."""
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", options, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m mode``: fast closes every connection at once."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, capture_output=True, check=False,
                              cwd=self.root).returncode == 0

    # ------------------------------------------------------------ databases

    def admin(self, *statements: str) -> None:
        """Run ``statements`` in autocommit on the ``postgres`` database."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER,
                             dbname="postgres", autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]

    def template(self) -> str:
        """The migrated template's name, made on first use (migrating once is enough)."""
        with self._lock:
            if not self._migrated:
                from flask_modular_login.store import open_store

                self.admin(f"CREATE DATABASE {TEMPLATE}")
                open_store(self.url(TEMPLATE), migrate=True).dispose()
                self._migrated = True
        return TEMPLATE

    def database(self, migrated: bool = True) -> str:
        """A new database (a copy of the migrated template, or empty); its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        source = self.template() if migrated else "template0"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {source}")
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop the database of ``url`` (its connections are closed first)."""
        name = url.rsplit("/", 1)[1]
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A started PostgreSQL in a new temporary directory; stopped and removed afterwards."""
    bindir = find_bindir()
    if bindir is None:
        unavailable("no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (the 'postgres' extra)")
    assert bindir is not None  # noqa: S101 - unavailable() raised otherwise
    user = UNPRIVILEGED if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="login-pg-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = PostgresServer(bindir, root, free_port(), user)
    try:
        server.init()
        server.start()
        yield server
    finally:
        if server.running():
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


class _Shared:
    """The session's one server, started by the first ``postgres`` fixture that runs and
    stopped when the last one ends (each test directory importing the fixture has its own)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.stack = contextlib.ExitStack()
        self.server: PostgresServer | None = None

    def acquire(self) -> PostgresServer:
        with self.lock:
            if self.server is None:
                self.server = self.stack.enter_context(running_postgres())
            self.users += 1
            return self.server

    def release(self) -> None:
        with self.lock:
            self.users -= 1
            if self.users == 0:
                self.server = None
                self.stack.close()


_SHARED = _Shared()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL (one server however many test directories import this)."""
    server = _SHARED.acquire()
    try:
        yield server
    finally:
        _SHARED.release()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> Iterator[str]:
    """A fresh, migrated database of the session's PostgreSQL; dropped afterwards."""
    url = postgres.database()
    yield url
    postgres.drop(url)
