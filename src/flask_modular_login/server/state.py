"""What the login service keeps per Flask app, in ``app.extensions["flask_modular_login"]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flask

from ..authority import LeaseAuthority
from ..client.decorators import authenticate
from ..client.local import Authentication, LocalLoginInterface
from ..config import Settings
from ..store import Store

EXTENSION = "flask_modular_login"


@dataclass
class LoginState:
    settings: Settings
    interface: LocalLoginInterface
    providers: dict[str, str] = field(default_factory=dict)  # name -> start endpoint
    platforms: dict[str, Any] = field(default_factory=dict)  # name -> registry.Provider

    @property
    def store(self) -> Store:
        return self.interface.store

    @property
    def authority(self) -> LeaseAuthority:
        return self.interface.authority


def current_state() -> LoginState:
    return flask.current_app.extensions[EXTENSION]


def current_auth() -> Authentication:
    """The request's authentication, checked once per request (cookie renewed or cleared)."""
    return authenticate(current_state().interface)
