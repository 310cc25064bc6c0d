"""The engine, its SQLite and PostgreSQL settings, and running migrations.

One writer at a time, on either database: every invariant the store keeps (an
invite never redeemed past its uses, a person redeeming once, a login and its
first lease written together, event ids committed in the order they were
given) rests on write transactions never interleaving.

SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout;
write transactions start with ``BEGIN IMMEDIATE`` so two writers queue instead of
failing half-way when both try to upgrade a read lock. Reads are single
statements in autocommit mode.

PostgreSQL (``postgresql+psycopg://user@host/db``, several hosts on one
database) runs at READ COMMITTED, which alone would let two redemptions both
read "one use left". So every write transaction first takes one
transaction-scoped advisory lock, the same for every writer on every host
(``pg_advisory_xact_lock``): writers queue exactly as on SQLite, the lock is
released by the commit or rollback (never left behind by a crashed process),
and reads take no lock at all. Serializing writers also keeps the event log's
cursor safe: ids are given under the lock and committed in that order, so a
reader that sees event n has seen every event before it.

On both, a writer waits at most :data:`LOCK_TIMEOUT_MS` for the lock (SQLite's busy
timeout: SQLite itself retries, sleeping in between; PostgreSQL's ``lock_timeout``),
then fails with ``OperationalError`` and the service answers 503 ``database_busy``
with ``Retry-After``. Within one process, writers first queue on a thread lock (in
about the order they came, each woken as soon as the one before is done), so only one
of them at a time waits on the database: SQLite's busy handler polls with growing
sleeps and favours no one, and under steady contention a writer among many could lose
every round until its bound ran out while later ones went through. The bound is short
because a web request waits it out: write transactions last milliseconds, so seconds
of waiting mean something else holds the lock (a long ``VACUUM``, a stuck process),
and a quick 503 beats a hung request holding a worker. The whole use case is not
retried on top of that wait: it would only lengthen the bound, and a retried use case
could repeat what it told others.

(SERIALIZABLE isolation would let unrelated writes run in parallel, but fails
conflicting ones at commit and needs every caller to retry the whole use case; logins
and invites are not frequent enough for that to pay.) Connections are checked before
use (``pool_pre_ping``), so a restarted PostgreSQL costs failed requests while it is
down and nothing after.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import OperationalError

from .access import AccessStore
from .accounts import AccountStore
from .audit import AuditLog
from .clients import ClientStore
from .events import EventLog
from .sessions import SessionStore

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_IMMEDIATE = "login_write"
WRITE_LOCK = 0x6C6F67696E5F7772  # "login_wr": the advisory lock key of every writer
"""The PostgreSQL advisory lock every write transaction takes first (a 64-bit key)."""
LOCK_TIMEOUT_MS = 5_000
"""How long a writer waits for the write lock (SQLite's busy timeout, PostgreSQL's
``lock_timeout``) before the request answers 503 ``database_busy``."""
CONNECT_TIMEOUT_SECONDS = 10
"""How long opening a PostgreSQL connection may take before the request fails (503)."""


class WriteLockTimeout(OperationalError):
    """This process's other writers held the write queue past :data:`LOCK_TIMEOUT_MS`
    (the service answers 503 ``database_busy``, as for the database's own lock)."""

    def __init__(self) -> None:
        super().__init__("BEGIN", None, TimeoutError(
            f"no turn to write within {LOCK_TIMEOUT_MS} ms"))


class Store:
    """The user database: accounts (users, identities), sessions, access (groups,
    memberships, invites) and the event log (revocations, membership changes)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.accounts = AccountStore(self)
        self.sessions = SessionStore(self)
        self.access = AccessStore(self)
        self.events = EventLog(self)
        self.clients = ClientStore(self)
        self.audit = AuditLog(self)
        self._writers = threading.Lock()
        """This process's write queue (see the module docstring); never held across hosts."""
        self._writers_pid = os.getpid()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction; committed on success, rolled back on any error. It
        holds the write lock from its start (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the
        advisory lock :data:`WRITE_LOCK`), so no other writer on any host interleaves.
        Raises ``OperationalError`` (:class:`WriteLockTimeout`, or the database's) when
        the lock is not had within :data:`LOCK_TIMEOUT_MS`, in each of the two queues."""
        writers = self._queue()
        if not writers.acquire(timeout=LOCK_TIMEOUT_MS / 1000):
            raise WriteLockTimeout()
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{_IMMEDIATE: True})
                with conn.begin():
                    yield conn
        finally:
            writers.release()

    def _queue(self) -> threading.Lock:
        """The write queue; a new one in a forked process (uwsgi without ``lazy-apps``),
        whose copy may be held by a thread that does not exist there."""
        if self._writers_pid != os.getpid():
            self._writers, self._writers_pid = threading.Lock(), os.getpid()
        return self._writers

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to ``revision``; safe to run from several processes at once."""
        from alembic import command  # the service's; client apps never load Alembic

        self._alembic(command.upgrade, revision)

    def downgrade(self, revision: str) -> None:
        """Downgrade the schema to ``revision`` (``"base"``: no tables). Loses data."""
        from alembic import command

        self._alembic(command.downgrade, revision)

    def _alembic(self, action: Callable[[Config, str], None], revision: str) -> None:
        with self.write() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            action(config, revision)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def open_store(url: str, migrate: bool = False, create: bool = True) -> Store:
    """A :class:`Store` on ``url``; with ``migrate``, the schema is brought up to date.

    ``url``: ``sqlite:///<path>`` or ``postgresql+psycopg://user@host/db`` (the
    ``postgres`` extra). The service creates a missing SQLite file (mode 0600). Client apps pass
    ``create=False``: the file must exist (``FileNotFoundError`` otherwise) and is
    opened read-write, so that no connection ever creates it, even if it is removed.
    """
    target: str | URL = url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if create:
            _create_private_file(path)
        else:
            target = _existing_sqlite(path)
    parsed = make_url(url)
    options = _postgresql_options(parsed) if parsed.get_backend_name() == "postgresql" else {}
    engine = create_engine(target, **options)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _configure_postgresql(engine)
    store = Store(engine)
    if migrate:
        store.migrate()
    return store


def _create_private_file(path: Path) -> None:
    """SQLite creates a missing file with the umask's mode; it holds session ids: 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _existing_sqlite(path: Path) -> URL:
    """A URL that opens the SQLite file ``path`` without ever creating it (``mode=rw``)."""
    if not path.is_file():
        raise FileNotFoundError(f"no user database at {path}: the login service creates it "
                                "('flask-modular-login init')")
    return URL.create("sqlite", database="file:" + quote(str(path.resolve())),
                      query={"mode": "rw", "uri": "true"})


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {LOCK_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writes take the write lock up front; reads run in autocommit, one
        # statement each, which is all they need and saves a round trip.
        if conn.get_execution_options().get(_IMMEDIATE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


_POSTGRESQL_POOL: dict[str, Any] = {
    "pool_pre_ping": True,  # a connection PostgreSQL closed (restart) is replaced, not used
    "pool_size": 5,
    "max_overflow": 10,
    "pool_timeout": 10,  # waiting for a pooled connection: then 503, not a hung request
    "pool_recycle": 1800,
}
_POSTGRESQL_CONNECT: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS,
                                       "application_name": "flask-modular-login"}


def _postgresql_options(url: URL) -> dict[str, Any]:
    """The engine's pool settings and connection defaults (the URL's own query wins)."""
    connect = {**_POSTGRESQL_CONNECT,  # lock_timeout once per connection, not per write
               "options": f"-c lock_timeout={LOCK_TIMEOUT_MS}"}
    defaults = {k: v for k, v in connect.items() if k not in url.query}
    return {**_POSTGRESQL_POOL, "connect_args": defaults}


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writes queue on one advisory lock, released by commit or rollback; reads
        # take none (see the module docstring).
        if conn.get_execution_options().get(_IMMEDIATE):  # lock_timeout: _POSTGRESQL_CONNECT
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
