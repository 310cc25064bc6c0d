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
