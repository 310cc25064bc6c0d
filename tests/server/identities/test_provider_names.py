"""Providers by the names people know: an OpenID Connect issuer's ``label`` from
credentials.json, or a name made from its key."""

from __future__ import annotations

import json

import pytest

from flask_modular_login import create_app

ISSUER = {"issuer": "https://id.example.com/realms/corp", "id": "app", "secret": "s3cret"}


@pytest.fixture
def login_page(tmp_path, run_dir):
    def page(corp: dict) -> str:
        credentials = tmp_path / "credentials.json"
        credentials.write_text(json.dumps({"oidc": {"corp": corp}}))
        app = create_app({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_CREDENTIALS": str(credentials),
                          "TESTING": True})
        return app.test_client().get("/login/").text

    return page


def test_the_login_page_shows_the_label_of_an_issuer(login_page):
    page = login_page({**ISSUER, "label": "Keycloak (corp)"})
    assert "Keycloak (corp)" in page and "oidc.corp" not in page


def test_without_a_label_the_name_is_made_from_its_key(login_page):
    assert "Corp (OpenID Connect)" in login_page(ISSUER)
