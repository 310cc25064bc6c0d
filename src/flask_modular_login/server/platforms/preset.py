"""What the OAuth preset modules (:mod:`.google`, :mod:`.github`, :mod:`.facebook`) share.

A preset module is a flask-dance blueprint factory plus a pure normaliser; this
module holds the two things each factory does to the blueprint it builds:
turn on PKCE (S256) and keep flask-dance's debug log from recording the client
secret, the PKCE verifier or the OAuth ``state``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask_dance.consumer import OAuth2ConsumerBlueprint

from .profile import ProviderError

FLASK_DANCE_LOGGER = "flask_dance.consumer.oauth2"


class _DropDebug(logging.Filter):
    """flask-dance logs ``client_secret``, ``code_verifier`` and ``state`` at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_DROP_DEBUG = _DropDebug()


def guard_logs() -> None:
    """Drop flask-dance's DEBUG records, which carry secrets (idempotent)."""
    logger = logging.getLogger(FLASK_DANCE_LOGGER)
    if _DROP_DEBUG not in logger.filters:
        logger.addFilter(_DROP_DEBUG)


def prepare(blueprint: OAuth2ConsumerBlueprint, *, pkce: bool = True) -> OAuth2ConsumerBlueprint:
    """Turn on PKCE with S256 (if ``pkce``) and guard the logs; returns ``blueprint``."""
    guard_logs()
    blueprint.use_pkce = pkce
    blueprint.code_challenge_method = "S256"
    return blueprint


def require_object(provider: str, profile: object) -> Mapping[str, object]:
    """``profile`` if it is a JSON object, else :class:`ProviderError`."""
    if not isinstance(profile, Mapping):
        raise ProviderError(f"{provider}: the profile is not a JSON object")
    return profile
