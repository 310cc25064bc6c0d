"""What the OAuth preset modules (:mod:`.google`, :mod:`.github`, :mod:`.facebook`) share.

A preset module is a flask-dance blueprint factory plus a pure normaliser; this
module holds the two things each factory does to the blueprint it builds:
turn on PKCE (S256) and keep the debug logs of flask-dance and requests-oauthlib
from recording the client secret, the code, the PKCE verifier, the OAuth
``state`` or the tokens.

The login service never registers these blueprints: it reads their endpoints
and settings and runs each login through :mod:`.oauth2`, whose state lives in
the browser's own session (flask-dance keeps PKCE values in attributes of the
blueprint, shared by every request).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask_dance.consumer import OAuth2ConsumerBlueprint

from .profile import ProviderError

FLASK_DANCE_LOGGER = "flask_dance.consumer.oauth2"
SECRET_LOGGERS = (
    FLASK_DANCE_LOGGER,
    "requests_oauthlib.oauth2_session",
)
"""Loggers that write secrets at DEBUG (client secret, code, verifier, tokens)."""


class _DropDebug(logging.Filter):
    """Drops DEBUG records: the loggers above put secrets in them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_DROP_DEBUG = _DropDebug()


def guard_logs() -> None:
    """Drop the DEBUG records of :data:`SECRET_LOGGERS`, which carry secrets (idempotent)."""
    for name in SECRET_LOGGERS:
        logger = logging.getLogger(name)
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
