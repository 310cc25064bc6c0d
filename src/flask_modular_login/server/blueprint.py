"""``LoginBlueprint``: the login service, mountable on any Flask app (app-factory safe)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask

from ..cache import shared_cache
from ..config import PREFIX, load_settings
from ..core.verifier import LeaseVerifier
from ..keystore import KeyCache, ensure_private_dir, run_secret
from ..keystore import load as load_keys
from ..service import Services
from ..store import open_store
from . import api_version, csrf, errors, headers, logs, pages, request_body, urls
from .platforms.registry import load_providers
from .state import EXTENSION, LoginState


class LoginBlueprint:
    """The login service's routes under ``LOGIN_URL_PREFIX`` (default ``/login``).

    ::

        app = Flask(__name__)
        app.config["LOGIN_DEBUG"] = True
        LoginBlueprint(app)             # or: login = LoginBlueprint(); login.init_app(app)

    ``init_app`` reads the ``LOGIN_...`` settings of that app, creates the keys and
    brings the database schema up to date. Keyword arguments override settings, spelt
    as config keys (``LOGIN_RUN_DIR="run"``; an unknown one is a ValueError) or in lower
    case without the prefix (``run_dir="run"``); ``clock`` (seconds since the epoch) is a
    seam for tests. An app without a ``SECRET_KEY`` gets one kept in ``run/flask_secret``
    (:func:`flask_secret`), so its sessions survive a restart.
    """

    def __init__(self, app: flask.Flask | None = None, *,
                 clock: Callable[[], float] = time.time, **settings: Any) -> None:
        self._config_keys = {key: value for key, value in settings.items()
                             if key.startswith(PREFIX)}
        self._overrides = {key: value for key, value in settings.items()
                           if not key.startswith(PREFIX)}
        self._clock = clock
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask) -> LoginState:
        config = {**app.config, **self._config_keys} if self._config_keys else app.config
        settings = load_settings(config, **self._overrides)
        cache = shared_cache(settings.memcached, settings.run_dir)  # a bad setting stops here
        platforms = load_providers(settings, cache)  # ... and a malformed credentials.json
        ensure_private_dir(settings.run_dir)
        if not app.config.get("SECRET_KEY"):  # the service's session: CSRF token, OAuth state
            app.config["SECRET_KEY"] = flask_secret(settings.run_dir)
        store = open_store(settings.database_url, migrate=True)
        load_keys(settings.keys_dir, create=True)
        keys = KeyCache(settings.keys_dir)
        services = Services.build(store, keys.get, settings, self._clock, cache)
        state = LoginState(settings, services, LeaseVerifier(lambda: keys.reload().ring))
        blueprint = _make_blueprint()
        state.platforms.update(platforms)
        state.providers.update(urls.register(blueprint, platforms, debug=settings.debug))
        app.extensions[EXTENSION] = state
        app.jinja_env.globals.setdefault("csrf_token", csrf.csrf_token)
        app.jinja_env.filters.setdefault("login_time", _format_time)
        app.register_blueprint(blueprint, url_prefix=settings.url_prefix)
        headers.register(app, settings.url_prefix)  # on every answer under the prefix
        logs.guard_request_logs(app)  # no invite code or OAuth code in request logs
        from ..cli import main as login_cli  # `flask login ...` uses this app's settings

        app.cli.add_command(login_cli, "login")
        return state


def flask_secret(run_dir: Path) -> bytes:
    """The Flask secret kept in ``run_dir/flask_secret`` (:func:`..keystore.run_secret`)."""
    return run_secret(run_dir)


def _format_time(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def _make_blueprint() -> flask.Blueprint:
    """The blueprint with its checks and error answers, before any URL rule (:mod:`.urls`)."""
    blueprint = flask.Blueprint("login", __name__, template_folder="templates",
                                static_folder="static")  # css, scripts, favicon (.pages)
    blueprint.before_request(api_version.check)  # another API version: 400 before anything
    blueprint.before_request(request_body.check)  # a bad body: 400 before any view
    blueprint.before_request(csrf.protect)
    errors.register(blueprint)
    pages.register(blueprint)  # the pages' layout, times and CSP
    return blueprint
