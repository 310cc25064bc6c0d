"""The shared cache on memcached (pymemcache): one or several servers, every failure a miss.

``LOGIN_MEMCACHED`` names the servers: ``host:port`` entries separated by commas
(``[::1]:11211`` for IPv6; the port defaults to 11211), or unix socket paths
(``/run/memcached.sock``). Keys are spread over the servers by rendezvous
hashing (:class:`pymemcache.client.hash.HashClient`, also for one server, for
its handling of dead servers).

Failure handling: connect and operation timeouts are short (:data:`TIMEOUT`);
a server that fails is left alone for :data:`RETRY_SECONDS`, then tried once
more, and after a second failure counted dead (its keys go to the other
servers) for :data:`DEAD_SECONDS`, after which it is used again. Every error is
logged at debug level (never a value) and answered as a miss: the callers go
to the database.

``TCP_NODELAY`` is always on: without it a get that follows a set waits for
the delayed ACK (about 40 ms). Values are JSON, authenticated with a secret
(:class:`JsonSerde`): a value that does not parse or whose MAC does not match is
a miss, and nothing is ever unpickled.

One connection per server and process, used under a lock (memcached answers
in about 0.1 ms; a pool would buy little and complicate failure handling). A
process forked after use (uwsgi without ``lazy-apps``) opens its own
connections: sockets are never shared between processes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
from collections.abc import Iterable
from typing import Any

from pymemcache.client.base import Client  # type: ignore[import-untyped]
from pymemcache.client.hash import HashClient  # type: ignore[import-untyped]

__all__ = ["MemcachedCache", "JsonSerde", "parse_servers", "TIMEOUT"]

logger = logging.getLogger("flask_modular_login.cache")

TIMEOUT = 0.3
"""Seconds to connect, and to wait for one answer."""
RETRY_SECONDS = 1.0
"""A failed server is skipped (every lookup on it misses) this long before one retry."""
DEAD_SECONDS = 5.0
"""A server that failed its retry is dead this long, then used again."""

Server = tuple[str, int] | str


def parse_servers(setting: str) -> list[Server]:
    """``host:port,host:port`` or unix socket paths; raises ``ValueError`` naming the entry."""
    servers: list[Server] = []
    for entry in (part.strip() for part in setting.split(",")):
        if not entry:
            continue
        if entry.startswith("/"):
            servers.append(entry)
            continue
        host, port = _host_port(entry)
        servers.append((host, port))
    if not servers:
        raise ValueError("LOGIN_MEMCACHED names no server")
    return servers


def _host_port(entry: str) -> tuple[str, int]:
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ("11211" if not rest else "")
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    elif ":" not in entry:
        host, port = entry, "11211"
    else:
        raise ValueError(f"LOGIN_MEMCACHED: write IPv6 addresses as [host]:port: {entry!r}")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"LOGIN_MEMCACHED: not host:port or a socket path: {entry!r}")
    return host, int(port)


class JsonSerde:
    """pymemcache's serde: JSON, authenticated when there is a ``secret``; anything else a miss.

    Integers (counters, generations) are stored as digits, which ``incr`` needs, and
    cannot be authenticated; everything else is JSON text (flag 1), preceded by an
    HMAC-SHA256 of the key and the text when ``secret`` is given, so that a value
    planted by whoever else reaches memcached, or written under another secret, is
    a miss rather than an answer.
    """

    JSON = 1
    INTEGER = 2
    MAC_LENGTH = 32  # hex digits: 128 bits

    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = secret

    def serialize(self, key: str | bytes, value: Any) -> tuple[bytes, int]:
        if type(value) is int:
            return str(value).encode(), self.INTEGER
        body = json.dumps(value, separators=(",", ":")).encode()
        return self._mac(key, body) + body, self.JSON

    def deserialize(self, key: str | bytes, value: bytes, flags: int) -> Any:
        try:
            if flags == self.INTEGER:
                return int(value)
            if flags != self.JSON:
                return None
            mac = self._mac(key, value[self.MAC_LENGTH if self.secret else 0:])
            if not hmac.compare_digest(mac, value[:len(mac)]):
                return None
            return json.loads(value[len(mac):])
        except ValueError:  # not ours, or damaged: a miss
            return None

    def _mac(self, key: str | bytes, body: bytes) -> bytes:
        if self.secret is None:
            return b""
        name = key if isinstance(key, bytes) else key.encode()
        digest = hmac.new(self.secret, name + b"\n" + body, hashlib.sha256).hexdigest()
        return digest[:self.MAC_LENGTH].encode()


class MemcachedCache:
    """A :class:`~flask_modular_login.cache.Cache` on memcached; no method raises."""

    def __init__(self, servers: list[Server], *, secret: bytes | None = None,
                 timeout: float | None = None, retry_seconds: float | None = None,
                 dead_seconds: float | None = None) -> None:
        """``servers`` as :func:`parse_servers` gives them; ``secret`` authenticates the
        values (:class:`JsonSerde`); the others default to :data:`TIMEOUT`,
        :data:`RETRY_SECONDS` and :data:`DEAD_SECONDS`."""
        self.servers = list(servers)
        self._serde = JsonSerde(secret)
        timeout = TIMEOUT if timeout is None else timeout
        self._options = {
            "connect_timeout": timeout, "timeout": timeout,
            "retry_timeout": RETRY_SECONDS if retry_seconds is None else retry_seconds,
            "dead_timeout": DEAD_SECONDS if dead_seconds is None else dead_seconds}
        self._lock = threading.Lock()
        self._pid = -1
        self._client: HashClient | None = None

    @classmethod
    def from_setting(cls, setting: str, **options: Any) -> MemcachedCache:
        return cls(parse_servers(setting), **options)

    def get(self, key: str) -> Any:
        return self._run("get", None, lambda c: c.get(key))

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        wanted = list(keys)
        if not wanted:
            return {}
        found = self._run("get_many", {}, lambda c: c.get_many(wanted))
        return {key: value for key, value in found.items() if value is not None}

    def set(self, key: str, value: Any, ttl: int) -> None:
        self._run("set", None, lambda c: c.set(key, value, expire=max(int(ttl), 1)))

    def add(self, key: str, value: Any, ttl: int) -> bool:
        return self._run("add", False, lambda c: c.add(key, value, expire=max(int(ttl), 1))) \
            is True

    def count(self, key: str, delta: int, ttl: int) -> int | None:
        def counted(client: HashClient) -> int | None:
            value = client.incr(key, delta)
            if value is None:  # missing: create it (a racing creator wins), then count
                client.add(key, 0, expire=max(int(ttl), 1))
                value = client.incr(key, delta)
            # an int, or None/False: pymemcache's answer while a server is failing
            return value if type(value) is int else None

        return self._run("count", None, counted)

    def delete(self, key: str) -> None:
        self._run("delete", None, lambda c: c.delete(key))

    def healthy(self) -> bool:
        """Whether every server answers ``version`` now (a fresh connection, short timeout)."""
        for server in self.servers:
            probe = Client(server, connect_timeout=self._options["timeout"],
                           timeout=self._options["timeout"], no_delay=True)
            try:
                probe.version()
            except Exception:  # noqa: BLE001 - down, whatever the reason
                return False
            finally:
                probe.close()
        return True

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = None

    def _run(self, what: str, missed: Any, operation: Any) -> Any:
        with self._lock:
            try:
                return operation(self._connected())
            except Exception as error:  # noqa: BLE001 - every failure is a miss
                logger.debug("memcached %s failed: %s", what, type(error).__name__)
                return missed

    def _connected(self) -> HashClient:
        if self._client is None or self._pid != os.getpid():
            if self._client is not None:  # inherited: close our copy (the parent keeps its)
                self._client.close()
            self._client = HashClient(
                self.servers, serde=self._serde, no_delay=True, use_pooling=False,
                ignore_exc=False, default_noreply=False, retry_attempts=1, **self._options)
            self._pid = os.getpid()
        return self._client
