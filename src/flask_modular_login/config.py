"""Every setting of flask_modular_login, with its default, under one prefix.

Settings are read from a Flask app's config (``app.config["LOGIN_..."]``) for
the login service, and from keyword arguments or ``LOGIN_...`` environment
variables for client apps. Durations are in seconds. Flags (``LOGIN_DEBUG``,
``LOGIN_COOKIE_SECURE``, ``LOGIN_KEEP_PROVIDER_TOKENS``) read ``1 true yes on`` as on
and ``0 false no off`` or empty as off, in any case (:func:`parse_flag`); any other
value is an error naming the setting.

=============================  ===========================  =====================================
setting                        default                      meaning
=============================  ===========================  =====================================
LOGIN_RUN_DIR                  the service: ``run``         keys, SQLite database, sockets, pids
                               (relative to cwd); client
                               apps: see :func:`find_run_dir`
LOGIN_DATABASE_URL             ``sqlite:///<run>/users.db`` SQLAlchemy URL of the user database
LOGIN_DEBUG                    ``False``                    enables the ``test`` provider and
                                                            plain-http cookies
LOGIN_LEASE_SECONDS            ``900`` (15 min)             life of one signed lease
LOGIN_SESSION_SECONDS          ``2592000`` (30 days)        absolute life of a session
LOGIN_REVOCATION_POLL_SECONDS  ``0.25``                     local clients read new revocations
                                                            at most this often (bound on delay)
LOGIN_COOKIE_NAME              ``login``                    name of the lease cookie
LOGIN_COOKIE_DOMAIN            ``None`` (host only)         Domain of the lease cookie
LOGIN_COOKIE_SECURE            ``True`` (``False`` in debug) Secure flag of every cookie
LOGIN_ALLOWED_ORIGINS          ``[]``                       client origins ``next`` may point to
                                                            (``scheme://host[:port]``, port ``*``
                                                            allowed); in debug also
                                                            ``http://localhost:*`` and
                                                            ``http://127.0.0.1:*``
LOGIN_URL_PREFIX               ``/login``                   where the login blueprint is mounted
LOGIN_CREDENTIALS              ``credentials.json``, then   the providers' client ids and secrets
                               ``<run>/credentials.json``   (a missing file: no OAuth provider)
LOGIN_PROVIDER_MODULES         ``[]``                       import paths of provider modules of
                                                            your own (space separated)
LOGIN_KEEP_PROVIDER_TOKENS     ``False``                    keep the provider's access token in
                                                            the service's session after login
LOGIN_CHANNEL_HOST             ``127.0.0.1``                where the channel for remote client
                                                            apps listens (``channel`` command;
                                                            also ``<sockets>/channel.sock``)
LOGIN_CHANNEL_PORT             ``8001``                     the channel's TCP port
LOGIN_CHANNEL_HEARTBEAT_SECONDS
                               ``2``                        seconds between the channel's
                                                            heartbeats (a remote client counts
                                                            2 × this + 1 s of silence as down)
LOGIN_SOCKET_DIR               ``<run>/sockets``            where uwsgi's and the channel's unix
                                                            sockets live (group-reachable)
LOGIN_SOCKET_GROUP             ``None`` (no chgrp)          group given the socket directory
                                                            (the web server's, e.g. www-data)
LOGIN_TRUSTED_PROXIES          ``0``                        proxies in front whose
                                                            X-Forwarded-For/Proto are believed
LOGIN_METRICS                  ``""`` (off)                 path under the prefix serving
                                                            Prometheus metrics (``/metrics``)
LOGIN_MEMCACHED                ``""`` (no memcached)        memcached servers the service shares
                                                            (``host:port,host:port`` or a unix
                                                            socket path); a cache, never needed
=============================  ===========================  =====================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .core.errors import LoginError

PREFIX = "LOGIN_"
RUN_DIR_SETTING = PREFIX + "RUN_DIR"
# Where this package is installed from; in a checkout (an editable install) it is
# <repository>/src/flask_modular_login, and the service's run/ is <repository>/run.
PACKAGE_DIR = Path(__file__).resolve().parent
DEBUG_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*")


@dataclass(frozen=True)
class Settings:
    """The resolved settings; build with :func:`load_settings`."""

    run_dir: Path = Path("run")
    database_url: str = ""
    debug: bool = False
    lease_seconds: int = 15 * 60
    session_seconds: int = 30 * 24 * 3600
    revocation_poll_seconds: float = 0.25
    cookie_name: str = "login"
    cookie_domain: str | None = None
    cookie_secure: bool = True
    allowed_origins: tuple[str, ...] = ()
    url_prefix: str = "/login"
    credentials: Path | None = None
    provider_modules: tuple[Any, ...] = ()
    keep_provider_tokens: bool = False
    channel_host: str = "127.0.0.1"
    channel_port: int = 8001
    channel_heartbeat_seconds: float = 2.0  # docs/protocol.md: silence of 5 s means down
    socket_dir: Path | None = None  # None: <run>/sockets (see sockets_dir)
    socket_group: str | None = None
    trusted_proxies: int = 0
    metrics: str = ""
    memcached: str = ""  # parsed by cache.memcached.parse_servers when the service starts
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def keys_dir(self) -> Path:
        return self.run_dir / "keys"

    @property
    def sockets_dir(self) -> Path:
        """Where uwsgi's and the channel's unix sockets live (:mod:`..sockets`)."""
        return self.socket_dir or self.run_dir / "sockets"

    @property
    def next_origins(self) -> tuple[str, ...]:
        """Origins a ``next`` target may point to, besides the service's own."""
        return self.allowed_origins + (DEBUG_ORIGINS if self.debug else ())


_CONVERTERS: dict[str, Any] = {
    "run_dir": Path,
    "database_url": str,
    "debug": lambda v: parse_flag(v),
    "lease_seconds": int,
    "session_seconds": int,
    "revocation_poll_seconds": float,
    "cookie_name": str,
    "cookie_domain": lambda v: v or None,
    "cookie_secure": lambda v: parse_flag(v),
    "allowed_origins": lambda v: tuple(v.split()) if isinstance(v, str) else tuple(v),
    "url_prefix": lambda v: "/" + str(v).strip("/"),
    "credentials": lambda v: Path(v) if v else None,
    "provider_modules": lambda v: tuple(v.split()) if isinstance(v, str) else tuple(v),
    "keep_provider_tokens": lambda v: parse_flag(v),
    "channel_host": str,
    "channel_port": int,
    "channel_heartbeat_seconds": float,
    "socket_dir": lambda v: Path(v) if v else None,
    "socket_group": lambda v: str(v) or None,
    "trusted_proxies": lambda v: _count(v),
    "metrics": lambda v: "/" + str(v).strip("/") if str(v or "").strip("/") else "",
    "memcached": lambda v: str(v or "").strip(),
}


def _count(value: Any) -> int:
    count = int(value)
    if count < 0:
        raise ValueError(f"{value!r} is negative")
    return count


TRUE_FLAGS = frozenset({"1", "true", "yes", "on"})
FALSE_FLAGS = frozenset({"0", "false", "no", "off", ""})


def parse_flag(value: Any) -> bool:
    """The one reader of on/off values (settings, environment, form fields).

    A bool is kept; otherwise ``1 true yes on`` mean True and ``0 false no off`` or
    an empty value mean False, in any case, surrounding spaces ignored. Anything
    else raises ``ValueError`` (``load_settings`` adds the setting's name).
    """
    if isinstance(value, bool):
        return value
    spelling = str(value).strip().lower()
    if spelling in TRUE_FLAGS:
        return True
    if spelling in FALSE_FLAGS:
        return False
    raise ValueError(f"{value!r} is not on or off: use 1, true, yes, on or 0, false, no, off "
                     "(any case; empty means off)")


def load_settings(
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Resolve settings: keyword overrides, then ``config``, then environment, then defaults.

    ``config`` is usually a Flask ``app.config``; keys carry the ``LOGIN_`` prefix.
    Unknown ``LOGIN_`` keys in ``config`` raise ``ValueError`` so typos do not pass silently,
    and so does a value that does not convert (``LOGIN_COOKIE_SECURE=maybe``), naming the
    setting.
    """
    config = config or {}
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, convert in _CONVERTERS.items():
        key = PREFIX + name.upper()
        if name in overrides and overrides[name] is not None:
            raw = overrides[name]
        elif key in config:
            raw = config[key]
        elif key in environ:
            raw = environ[key]
        else:
            continue
        try:
            values[name] = convert(raw)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{key}: {error}") from None
    _reject_unknown(config)
    settings = Settings(**values)
    if "cookie_secure" not in values and settings.debug:
        settings = replace(settings, cookie_secure=False)
    if not settings.database_url:
        path = (settings.run_dir / "users.db").resolve()
        settings = replace(settings, database_url=f"sqlite:///{path}")
    return settings


class RunDirNotFound(LoginError, FileNotFoundError):
    """A client app found no run directory of the login service (see :func:`find_run_dir`)."""

    code = "run_dir_not_found"


def load_client_settings(
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """:func:`load_settings` for a client app, which must find the service's run directory
    rather than make one: when ``run_dir`` is given by none of the three sources, it is
    :func:`find_run_dir`'s answer (or its :class:`RunDirNotFound`)."""
    config = config or {}
    environ = os.environ if environ is None else environ
    if overrides.get("run_dir") is None and not config.get(RUN_DIR_SETTING) \
            and not environ.get(RUN_DIR_SETTING):
        overrides["run_dir"] = find_run_dir()
    return load_settings(config, environ, **overrides)


def find_run_dir(cwd: Path | None = None) -> Path:
    """The login service's run directory, for a client app that does not set ``LOGIN_RUN_DIR``.

    ``./run`` if it holds signing keys (``run/keys/*.pem``); else, when the package is
    installed from a checkout (``pip install -e``: ``<repository>/src/flask_modular_login``),
    that repository's ``run/`` if it holds keys. Nothing is created; finding none raises
    :class:`RunDirNotFound`, naming the setting and the places looked at.
    """
    looked = [(Path.cwd() if cwd is None else cwd).resolve() / "run"]
    checkout = PACKAGE_DIR.parents[1]
    if checkout / "src" / "flask_modular_login" == PACKAGE_DIR and checkout / "run" not in looked:
        looked.append(checkout / "run")
    for run_dir in looked:
        if _holds_keys(run_dir):
            return run_dir
    places = " nor ".join(str(path / "keys") for path in looked)
    raise RunDirNotFound(
        f"no signing key of the login service in {places}: set {RUN_DIR_SETTING} to the "
        "service's run directory (where 'flask-modular-login init' or 'sh server.sh' put "
        "keys/ and users.db), or start this app from the directory that holds it")


def _holds_keys(run_dir: Path) -> bool:
    try:
        return any((run_dir / "keys").glob("*.pem"))
    except OSError:  # unreadable: not ours to use
        return False


# LOGIN_DISABLED belongs to Flask-Login, which may share an app with us.
_KNOWN_ELSEWHERE = {"LOGIN_DISABLED"}


def _reject_unknown(config: Mapping[str, Any]) -> None:
    known = {PREFIX + name.upper() for name in _CONVERTERS} | _KNOWN_ELSEWHERE
    unknown = sorted(k for k in config if k.startswith(PREFIX) and k not in known)
    if unknown:
        raise ValueError(f"unknown login settings: {', '.join(unknown)}")
