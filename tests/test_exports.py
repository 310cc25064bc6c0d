"""The public surface is declared and importable (DESIGN.md "Public names to keep")."""

from __future__ import annotations

import flask_modular_login


def test_all_names_are_exported_and_real():
    for name in flask_modular_login.__all__:
        assert getattr(flask_modular_login, name) is not None, name


def test_seed_names_exist():
    from flask_modular_login import (  # noqa: F401
        LocalLoginBuilder,
        LocalLoginInterface,
        LoginBlueprint,
        LoginBuilder,
        login_optional,
        login_required,
    )

    assert LocalLoginBuilder is LoginBuilder
    assert login_required.builder is login_optional.builder


HEAVY = ("flask_dance", "oauthlib", "qrcode", "alembic", "websockets", "aiohttp")


def test_a_client_app_imports_no_server_library():
    """``import flask_modular_login`` (what every client app does) loads neither the login
    service's libraries nor the channel's: the server and the remote client load on first use."""
    import subprocess
    import sys

    probe = ("import sys, flask_modular_login; "
             f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.split() == []


def test_the_server_names_still_import_on_demand():
    from flask_modular_login import LoginBlueprint, create_app
    from flask_modular_login.server import LoginBlueprint as served
    from flask_modular_login.server import create_app as made

    assert (LoginBlueprint, create_app) == (served, made)
    assert {"LoginBlueprint", "create_app"} <= set(dir(flask_modular_login))
