"""Fixtures of the login service's provider tests: real OpenID Connect providers and a
service configured with them.

Two node ``oidc-provider`` servers run for the test session: ``alpha`` (also
the issuer behind ``nodeoauth``, a provider module of our own that takes the
plain OAuth 2 path) and ``beta``. The service is configured through a real
``credentials.json`` and ``LOGIN_PROVIDER_MODULES``. Browsers at the service
are Flask test clients (host ``localhost``); at the provider, ``requests``
sessions driving its dev forms (:func:`tests.support.oidc_provider.authorize`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import flask
import pytest
import requests
from sqlalchemy import func, select

from flask_modular_login import create_app
from flask_modular_login.store.tables import sessions
from tests.support.access import People
from tests.support.oidc_provider import OIDCTestProvider, authorize, running_oidc_provider

SERVICE = "http://localhost"
PATHS = {"oidc.alpha": "oidc/alpha", "oidc.beta": "oidc/beta", "nodeoauth": "nodeoauth"}


def callback_url(provider: str) -> str:
    return f"{SERVICE}/login/{PATHS[provider]}/authorized"


@pytest.fixture(scope="session")
def node_alpha() -> Iterator[OIDCTestProvider]:
    uris = (callback_url("oidc.alpha"), callback_url("nodeoauth"))
    with running_oidc_provider(uris, client_id="alpha-client") as provider:
        yield provider


@pytest.fixture(scope="session")
def node_beta() -> Iterator[OIDCTestProvider]:
    with running_oidc_provider((callback_url("oidc.beta"),), client_id="beta-client") as provider:
        yield provider


def credentials_document(alpha: OIDCTestProvider, beta: OIDCTestProvider) -> dict:
    def issuer(node: OIDCTestProvider) -> dict:
        return {"issuer": node.issuer, "id": node.client_id, "secret": node.client_secret}

    return {
        "nodeoauth": {"id": alpha.client_id, "secret": alpha.client_secret},
        "oidc": {"alpha": issuer(alpha), "beta": issuer(beta)},
    }


@pytest.fixture
def credentials_file(tmp_path: Path, node_alpha, node_beta, monkeypatch) -> Path:
    monkeypatch.setenv("NODE_OAUTH_ISSUER", node_alpha.issuer)
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(credentials_document(node_alpha, node_beta)))
    return path


@pytest.fixture
def service_config(run_dir: Path, credentials_file: Path) -> dict:
    return {
        "LOGIN_RUN_DIR": str(run_dir),
        "LOGIN_DEBUG": True,
        "LOGIN_CREDENTIALS": str(credentials_file),
        "LOGIN_PROVIDER_MODULES": "tests.support.node_oauth",
        "TESTING": True,
    }


@pytest.fixture
def provider_service(service_config: dict, clock) -> flask.Flask:
    """The login service with ``oidc.alpha``, ``oidc.beta`` and ``nodeoauth`` configured."""
    return create_app(service_config, clock=clock)


@pytest.fixture
def insecure_transport(monkeypatch) -> None:
    """oauthlib refuses plain http; the node provider listens on http://127.0.0.1."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def provider_url(start) -> str:
    """Where a start answer sends the browser (a redirect, or JSON ``location``)."""
    if start.is_json:
        return start.json["location"]
    assert start.status_code in (302, 303), start.text
    return start.location


@pytest.fixture
def at_provider() -> Callable[..., str]:
    """Drive the provider's forms from ``url``; the callback URL it sends the browser to."""

    def go(url: str, provider: str, login: str) -> str:
        with requests.Session() as browser:
            return authorize(browser, url, login=login, stop_at=callback_url(provider))

    return go


@pytest.fixture
def provider_login(at_provider) -> Callable[..., flask.Response]:
    """Log ``browser`` (a Flask test client) in at ``provider`` as ``login``; the answer."""

    def log_in(browser, provider: str, login: str, next: str | None = None):
        query = {"next": next} if next else None
        start = browser.get(f"/login/{PATHS[provider]}/", query_string=query)
        return browser.get(at_provider(provider_url(start), provider, login))

    return log_in


def session_count(app: flask.Flask) -> int:
    """Sessions ever started by the service (live or not)."""
    state = app.extensions["flask_modular_login"]
    with state.store.read() as conn:
        return conn.execute(select(func.count()).select_from(sessions)).scalar_one()


def service_session(browser) -> dict:
    """The service's own session (``login_state``) of ``browser``, decoded."""
    with browser.session_transaction("/login/") as session:  # the cookie's path
        return dict(session)


@pytest.fixture
def people(service, login) -> People:
    """``people["alice"]``: a browser logged in to the service as alice (made on first use)."""
    return People(service, login)
