"""Readiness of the parts the login service needs: database, memcached, signing key.

:func:`check` runs each probe and answers ``{part: "up" | "down"}``. A probe
catches its own failure: a part that raises is ``down`` and the reason goes to
the log (``flask_modular_login.health``) only, never into the answer, which the
whole world may read: no URL, path, host or message there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from ..config import Settings
from ..keystore import load as load_keys

logger = logging.getLogger("flask_modular_login.health")

UP, DOWN = "up", "down"
PROBE = b"flask_modular_login health probe"


def check(services: Any, settings: Settings) -> dict[str, str]:
    """``{"database": ..., "signing_key": ...}``, and ``"memcached"`` when ``LOGIN_MEMCACHED``
    is set: each ``"up"`` or ``"down"``."""
    probes: dict[str, Callable[[], bool]] = {
        "database": lambda: database_up(services.store),
        "signing_key": lambda: signing_key_up(settings.keys_dir),
    }
    cache = getattr(services, "cache", None)
    if getattr(settings, "memcached", "") and cache is not None:
        probes["memcached"] = cache.healthy
    return {part: _run(part, probe) for part, probe in probes.items()}


def healthy(parts: dict[str, str]) -> bool:
    return all(state == UP for state in parts.values())


def database_up(store: Any) -> bool:
    """One trivial query on a connection of the store's pool."""
    with store.read() as conn:
        conn.execute(text("SELECT 1")).scalar_one()
    return True


def signing_key_up(keys_dir: Path) -> bool:
    """The newest key on disk loads, signs, and its public key in the ring verifies it."""
    keys = load_keys(keys_dir)
    signature = keys.signing.private_key.sign(PROBE)
    public = keys.ring.get(keys.signing.kid)
    if public is None:
        return False
    public.verify(signature, PROBE)  # raises InvalidSignature if the pair does not match
    return True


def _run(part: str, probe: Callable[[], bool]) -> str:
    try:
        up = bool(probe())
    except Exception as error:  # a failing part is "down", whatever the failure
        logger.warning("health: %s is down: %s", part, type(error).__name__)
        return DOWN
    if not up:
        logger.warning("health: %s is down", part)
    return UP if up else DOWN
