"""Settings: one prefix, documented defaults, typos refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from flask_modular_login.config import load_settings


def test_defaults():
    settings = load_settings({}, environ={})
    assert settings.lease_seconds == 900
    assert settings.session_seconds == 30 * 24 * 3600
    assert settings.cookie_secure is True and settings.debug is False
    assert settings.database_url == f"sqlite:///{Path('run/users.db').resolve()}"
    assert settings.next_origins == ()


def test_precedence_keyword_then_config_then_environment():
    environ = {"LOGIN_LEASE_SECONDS": "60", "LOGIN_SESSION_SECONDS": "600",
               "LOGIN_DEBUG": "1"}
    settings = load_settings({"LOGIN_LEASE_SECONDS": 120}, environ=environ, lease_seconds=30)
    assert (settings.lease_seconds, settings.session_seconds) == (30, 600)
    assert settings.debug and settings.cookie_secure is False
    assert "http://127.0.0.1:*" in settings.next_origins


def test_unknown_login_setting_is_refused():
    with pytest.raises(ValueError, match="LOGIN_LEASE_SECOND"):
        load_settings({"LOGIN_LEASE_SECOND": 5}, environ={})


def test_allowed_origins_from_environment_are_split():
    settings = load_settings({}, environ={"LOGIN_ALLOWED_ORIGINS": "https://a.example https://b"})
    assert settings.allowed_origins == ("https://a.example", "https://b")


def test_provider_settings():
    environ = {"LOGIN_CREDENTIALS": "/etc/login/credentials.json",
               "LOGIN_PROVIDER_MODULES": "my.gitlab my.orcid", "LOGIN_KEEP_PROVIDER_TOKENS": "1"}
    settings = load_settings({}, environ=environ)
    assert settings.credentials == Path("/etc/login/credentials.json")
    assert settings.provider_modules == ("my.gitlab", "my.orcid")
    assert settings.keep_provider_tokens is True
    defaults = load_settings({}, environ={})
    assert (defaults.credentials, defaults.provider_modules) == (None, ())
    assert defaults.keep_provider_tokens is False
