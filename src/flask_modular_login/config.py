"""Every setting of flask_modular_login, with its default, under one prefix.

Settings are read from a Flask app's config (``app.config["LOGIN_..."]``) for
the login service, and from keyword arguments or ``LOGIN_...`` environment
variables for client apps. Durations are in seconds.

=============================  ===========================  =====================================
setting                        default                      meaning
=============================  ===========================  =====================================
LOGIN_RUN_DIR                  ``run`` (relative to cwd)    keys, SQLite database, sockets, pids
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
                                                            also ``<run>/channel.sock``)
LOGIN_CHANNEL_PORT             ``8001``                     the channel's TCP port
LOGIN_CHANNEL_HEARTBEAT_SECONDS
                               ``2``                        seconds between the channel's
                                                            heartbeats (a remote client counts
                                                            2 × this + 1 s of silence as down)
=============================  ===========================  =====================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

PREFIX = "LOGIN_"
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
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def keys_dir(self) -> Path:
        return self.run_dir / "keys"

    @property
    def next_origins(self) -> tuple[str, ...]:
        """Origins a ``next`` target may point to, besides the service's own."""
        return self.allowed_origins + (DEBUG_ORIGINS if self.debug else ())


_CONVERTERS: dict[str, Any] = {
    "run_dir": Path,
    "database_url": str,
    "debug": lambda v: v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes", "on"),
    "lease_seconds": int,
    "session_seconds": int,
    "revocation_poll_seconds": float,
    "cookie_name": str,
    "cookie_domain": lambda v: v or None,
    "cookie_secure": lambda v: v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes"),
    "allowed_origins": lambda v: tuple(v.split()) if isinstance(v, str) else tuple(v),
    "url_prefix": lambda v: "/" + str(v).strip("/"),
    "credentials": lambda v: Path(v) if v else None,
    "provider_modules": lambda v: tuple(v.split()) if isinstance(v, str) else tuple(v),
    "keep_provider_tokens": lambda v: _flag(v),
    "channel_host": str,
    "channel_port": int,
    "channel_heartbeat_seconds": float,
}


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")


def load_settings(
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Resolve settings: keyword overrides, then ``config``, then environment, then defaults.

    ``config`` is usually a Flask ``app.config``; keys carry the ``LOGIN_`` prefix.
    Unknown ``LOGIN_`` keys in ``config`` raise ``ValueError`` so typos do not pass silently.
    """
    config = config or {}
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, convert in _CONVERTERS.items():
        key = PREFIX + name.upper()
        if name in overrides and overrides[name] is not None:
            values[name] = convert(overrides[name])
        elif key in config:
            values[name] = convert(config[key])
        elif key in environ:
            values[name] = convert(environ[key])
    _reject_unknown(config)
    settings = Settings(**values)
    if "cookie_secure" not in values and settings.debug:
        settings = replace(settings, cookie_secure=False)
    if not settings.database_url:
        path = (settings.run_dir / "users.db").resolve()
        settings = replace(settings, database_url=f"sqlite:///{path}")
    return settings


# LOGIN_DISABLED belongs to Flask-Login, which may share an app with us.
_KNOWN_ELSEWHERE = {"LOGIN_DISABLED"}


def _reject_unknown(config: Mapping[str, Any]) -> None:
    known = {PREFIX + name.upper() for name in _CONVERTERS} | _KNOWN_ELSEWHERE
    unknown = sorted(k for k in config if k.startswith(PREFIX) and k not in known)
    if unknown:
        raise ValueError(f"unknown login settings: {', '.join(unknown)}")
