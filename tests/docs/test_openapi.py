"""docs/openapi.yaml stays true to the service: valid OpenAPI 3.1, and exactly the JSON
routes of the app's URL map, with the same methods.

A JSON route is a rule whose endpoint ends in ``_json`` (the JSON twins), one of
:data:`NEGOTIATED` (one URL answering a page or JSON by the Accept header, or JSON
alone), or a health route. The HTML pages, the providers' login routes, static files
and the metrics (Prometheus text) are not in the document.
"""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema_rs
import schemathesis
import yaml

from flask_modular_login import create_app

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "openapi.yaml"
PREFIX = "/login"
NEGOTIATED = frozenset({
    "login_page", "logout", "jwks", "end_session", "end_other_sessions", "link_identity",
    "unlink_identity", "accept_page", "accept_invite", "login_health", "login_health_live",
})
METHODS = ("get", "post", "put", "patch", "delete")


def load_spec() -> dict:
    return yaml.safe_load(SPEC.read_text())


def json_routes(app) -> set[tuple[str, str]]:
    """(path under the prefix in OpenAPI form, lower-case method) of every JSON rule."""
    found = set()
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint.rpartition(".")[2]
        if not (endpoint.endswith("_json") or endpoint in NEGOTIATED):
            continue
        assert rule.rule.startswith(PREFIX + "/"), rule.rule
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule[len(PREFIX):])
        found |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def documented(spec: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in spec["paths"].items()
            for method in METHODS if method in item}


def test_the_document_is_valid_openapi_3_1():
    spec = load_spec()
    assert spec["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(spec).validate()  # the OpenAPI 3.1 meta-schema


def test_every_schema_in_it_is_valid_json_schema():
    spec = load_spec()
    for name, schema in spec["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(
            {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}), name


def test_every_json_route_is_documented_and_nothing_else(tmp_path):
    app = create_app({"LOGIN_RUN_DIR": str(tmp_path / "run"), "LOGIN_DEBUG": True,
                      "LOGIN_METRICS": "/metrics", "TESTING": True})
    routes = json_routes(app)
    assert {endpoint for endpoint in NEGOTIATED
            if not any(rule.endpoint.rpartition(".")[2] == endpoint
                       for rule in app.url_map.iter_rules())} == set(), "a stale name"
    spec = documented(load_spec())
    assert routes - spec == set(), "JSON routes missing from docs/openapi.yaml"
    assert spec - routes == set(), "docs/openapi.yaml names routes the service does not have"


def test_the_security_schemes_name_the_real_cookies_and_header(tmp_path):
    app = create_app({"LOGIN_RUN_DIR": str(tmp_path / "run"), "LOGIN_DEBUG": True,
                      "TESTING": True})
    schemes = load_spec()["components"]["securitySchemes"]
    assert schemes["lease"]["name"] == app.extensions["flask_modular_login"].settings.cookie_name
    assert schemes["state"]["name"] == app.config["SESSION_COOKIE_NAME"]
    assert schemes["csrf"]["name"] == "X-CSRF-Token"
