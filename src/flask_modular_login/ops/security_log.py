"""One log line per security event, ``key=value``, on ``flask_modular_login.security``.

:func:`connect` subscribes to the service's signals (:mod:`..signals`); each event
becomes one INFO line (WARNING for refusals) such as::

    event=login user_id=u1 handle=3fa1c2d4e5b6 provider=github ip=203.0.113.9
    event=login_refused provider=github reason=state_mismatch ip=203.0.113.9
    event=channel_refused client=- address=127.0.0.1:50522 reason=auth_failed

Signals carry no secret (never a session id, lease, invite code or credential),
and the line keeps only the arguments named in :data:`FIELDS`: an argument added
to a signal later is not logged until it is listed here. Values are quoted when
they hold spaces, quotes or ``=``; a missing value is ``-``. Route this logger to
your SIEM or a file of its own with the logging configuration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .. import signals

logger = logging.getLogger("flask_modular_login.security")

FIELDS: dict[str, tuple[str, ...]] = {
    "login": ("user_id", "handle", "provider", "ip"),
    "logout": ("user_id", "handle", "ip"),
    "session-ended": ("user_id", "actor_id", "handles", "reason", "ip"),
    "renewal-refused": ("user_id", "handle", "ip"),
    "login-refused": ("provider", "reason", "ip"),
    "invite-created": ("user_id", "group", "invite_id", "ip"),
    "invite-redeemed": ("user_id", "group", "invite_id", "ip"),
    "invite-reneged": ("user_id", "actor_id", "group", "invite_id", "ip"),
    "member-added": ("user_id", "actor_id", "group", "ip"),
    "member-removed": ("user_id", "actor_id", "group", "ip"),
    "identity-linked": ("user_id", "provider", "ip"),
    "identity-unlinked": ("user_id", "provider", "ip"),
    "channel-accepted": ("client", "address"),
    "channel-refused": ("client", "address", "reason"),
}
"""The signals logged, by name, and the arguments each line keeps."""

REFUSALS = frozenset({"renewal-refused", "login-refused", "channel-refused"})


def line(event: str, fields: tuple[str, ...], arguments: dict[str, Any]) -> str:
    """``event=<event> key=value ...`` for the ``fields`` of ``arguments``."""
    pairs = [("event", event.replace("-", "_"))]
    pairs += [(name, _value(arguments.get(name))) for name in fields]
    return " ".join(f"{name}={value}" for name, value in pairs)


def _value(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, (list, tuple, set, frozenset)):
        value = ",".join(str(item) for item in value) or "-"
    text = str(value)
    if any(c in text for c in ' "=\n\r\t\\') or not text.isprintable():
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        return f'"{escaped}"'
    return text


def _receiver(event: str) -> Callable[..., None]:
    fields = FIELDS[event]
    level = logging.WARNING if event in REFUSALS else logging.INFO

    def receive(sender: Any, **arguments: Any) -> None:
        if logger.isEnabledFor(level):
            logger.log(level, line(event, fields, arguments))

    return receive


_RECEIVERS = {signal: _receiver(signal.name) for signal in signals.ALL if signal.name in FIELDS}


def connect() -> None:
    """Log every event of :data:`FIELDS`, whichever service sends it (idempotent)."""
    for signal, receiver in _RECEIVERS.items():
        signal.connect(receiver, weak=False)


def disconnect() -> None:
    for signal, receiver in _RECEIVERS.items():
        signal.disconnect(receiver)
