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


TRUE_SPELLINGS = ["1", "true", "yes", "on", "TRUE", "Yes", "ON", "On", " on "]
FALSE_SPELLINGS = ["0", "false", "no", "off", "", "FALSE", "No", "OFF"]
FLAGS = ["LOGIN_COOKIE_SECURE", "LOGIN_DEBUG", "LOGIN_KEEP_PROVIDER_TOKENS"]


@pytest.mark.parametrize("key", FLAGS)
@pytest.mark.parametrize("spelling", TRUE_SPELLINGS)
def test_every_true_spelling_of_a_flag(key, spelling):
    settings = load_settings({}, environ={key: spelling})
    assert getattr(settings, key.removeprefix("LOGIN_").lower()) is True


@pytest.mark.parametrize("key", FLAGS)
@pytest.mark.parametrize("spelling", FALSE_SPELLINGS)
def test_every_false_spelling_of_a_flag(key, spelling):
    # LOGIN_DEBUG=1 makes cookie_secure default to False: a false spelling must win.
    settings = load_settings({}, environ={"LOGIN_DEBUG": "1", key: spelling}
                             if key == "LOGIN_COOKIE_SECURE" else {key: spelling})
    assert getattr(settings, key.removeprefix("LOGIN_").lower()) is False


def test_cookie_secure_on_from_the_environment_in_debug():
    settings = load_settings({}, environ={"LOGIN_DEBUG": "on", "LOGIN_COOKIE_SECURE": "on"})
    assert settings.debug is True and settings.cookie_secure is True


@pytest.mark.parametrize("key", FLAGS)
@pytest.mark.parametrize("value", ["maybe", "2", "enabled", "y"])
def test_an_unknown_flag_value_is_an_error_naming_the_setting(key, value):
    with pytest.raises(ValueError, match=f"{key}.*{value!r}"):
        load_settings({}, environ={key: value})
    with pytest.raises(ValueError, match=key):
        load_settings({key: value}, environ={})


def test_flags_keep_booleans():
    from flask_modular_login.config import parse_flag

    assert parse_flag(True) is True and parse_flag(False) is False
    assert parse_flag(1) is True and parse_flag(0) is False


def test_one_flag_parser_in_the_package():
    """Every place that reads a flag uses config.parse_flag: no second list of spellings."""
    import ast

    package = Path(__file__).parents[1] / "src" / "flask_modular_login"
    copies = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
                words = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                if {"yes", "true"} <= words or {"no", "false"} <= words:
                    copies.append(str(path.relative_to(package)))
    assert sorted(copies) == ["config.py", "config.py"]  # TRUE_FLAGS, FALSE_FLAGS
