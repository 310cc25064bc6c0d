"""The login service configured for the operations tests: a ``github`` provider (whose
callback can be refused without any network) and the options the test asks for."""

from __future__ import annotations

import json
from pathlib import Path

import flask

from flask_modular_login import create_app
from tests.support.logs import OAUTH_CODE, OAUTH_STATE

REFUSED_CALLBACK = f"/login/github/authorized?code={OAUTH_CODE}&state={OAUTH_STATE}"
"""A provider's callback no login started: refused (``login_not_started``)."""


def ops_service(run_dir: Path, clock, **config: object) -> flask.Flask:
    credentials = run_dir.parent / "credentials.json"
    credentials.write_text(json.dumps({"github": {"id": "gh-id", "secret": "gh-secret-42"}}))
    return create_app({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": True, "TESTING": True,
                       "LOGIN_CREDENTIALS": str(credentials), **config}, clock=clock)
