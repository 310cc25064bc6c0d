"""What the login service keeps per Flask app, in ``app.extensions["flask_modular_login"]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flask

from ..authority import LeaseAuthority
from ..config import Settings
from ..core.verifier import LeaseVerifier
from ..service import Services
from ..service.access import AccessService
from ..service.sessions import SessionService
from ..store import Store

EXTENSION = "flask_modular_login"


@dataclass
class LoginState:
    settings: Settings
    services: Services
    verifier: LeaseVerifier
    providers: dict[str, str] = field(default_factory=dict)  # name -> start endpoint
    platforms: dict[str, Any] = field(default_factory=dict)  # name -> registry.Provider

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def sessions(self) -> SessionService:
        return self.services.sessions

    @property
    def access(self) -> AccessService:
        return self.services.access

    @property
    def authority(self) -> LeaseAuthority:
        return self.services.sessions.authority


def current_state() -> LoginState:
    return flask.current_app.extensions[EXTENSION]
