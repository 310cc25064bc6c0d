import json
from pathlib import Path

import pytest

from flask_modular_login.server.platforms.credentials import (
    Credentials,
    CredentialsError,
    OAuthCredentials,
    OIDCCredentials,
    find_credentials,
    load_credentials,
    parse_credentials,
)

ROOT = Path(__file__).resolve().parents[3]

ISSUER = {"issuer": "https://id.example.com/realms/x", "id": "client", "secret": "s3cret"}


def parse(document: object) -> Credentials:
    return parse_credentials(json.dumps(document))


def test_example_file_shows_every_form():
    creds = load_credentials(ROOT / "credentials.example.json")
    assert creds.providers() == ("google", "github", "facebook", "oidc.keycloak", "oidc.auth0")
    assert creds.oidc["auth0"].scopes == ("openid", "profile")


def test_full_document():
    creds = parse(
        {
            "google": {"id": "g", "secret": "gs"},
            "github": {"id": "h", "secret": "hs"},
            "oidc": {"keycloak": {**ISSUER, "scopes": ["openid", "profile", "email"]}},
        }
    )
    assert creds.google == OAuthCredentials("g", "gs")
    assert creds.github == OAuthCredentials("h", "hs")
    assert creds.facebook is None
    assert creds.oidc["keycloak"] == OIDCCredentials(
        "keycloak", ISSUER["issuer"], "client", "s3cret", ("openid", "profile", "email")
    )
    assert creds.providers() == ("google", "github", "oidc.keycloak")


def test_empty_object_means_no_provider():
    assert parse({}).providers() == ()


def test_secrets_stay_out_of_repr():
    creds = parse({"github": {"id": "h", "secret": "hunter2"}, "oidc": {"kc": ISSUER}})
    assert "hunter2" not in repr(creds)
    assert "s3cret" not in repr(creds)


def test_local_http_issuer_is_allowed():
    for issuer in ("http://127.0.0.1:8080", "http://localhost:9000/realm", "http://[::1]:1"):
        assert parse({"oidc": {"dev": {**ISSUER, "issuer": issuer}}}).oidc["dev"].issuer == issuer


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "the top level must be an object"),
        ({"twitter": {}}, "twitter is not a known key"),
        ({"github": "x"}, "github must be an object"),
        ({"github": {"id": "x"}}, "github.secret is missing"),
        ({"github": {"id": "x", "secret": "y", "scope": "z"}}, "github.scope is not a known key"),
        ({"google": {"id": 3, "secret": "y"}}, "google.id must be a string"),
        ({"facebook": {"id": "x", "secret": " "}}, "facebook.secret must not be empty"),
        ({"facebook": {"id": "x\n", "secret": "y"}}, "facebook.id must not contain control"),
        ({"oidc": []}, "oidc must be an object"),
        ({"oidc": {"kc": "x"}}, "oidc.kc must be an object"),
        ({"oidc": {"kc": {**ISSUER, "issuer": 1}}}, "oidc.kc.issuer must be a string"),
        ({"oidc": {"kc": {"id": "x", "secret": "y"}}}, "oidc.kc.issuer is missing"),
        ({"oidc": {"kc": {**ISSUER, "extra": 1}}}, "oidc.kc.extra is not a known key"),
        (
            {"oidc": {"kc": {**ISSUER, "issuer": "http://id.example.com"}}},
            "oidc.kc.issuer must use https",
        ),
        ({"oidc": {"kc": {**ISSUER, "issuer": "id.example.com"}}}, "must be an absolute https"),
        ({"oidc": {"kc": {**ISSUER, "issuer": "ftp://id.example.com"}}}, "absolute https URL"),
        ({"oidc": {"kc": {**ISSUER, "issuer": "https://x.com/?a=1"}}}, "must not contain a query"),
        ({"oidc": {"kc": {**ISSUER, "issuer": "https://x.com/#f"}}}, "must not contain a query"),
        ({"oidc": {"kc": {**ISSUER, "issuer": "https://u:p@x.com"}}}, "user info"),
        ({"oidc": {"kc": {**ISSUER, "issuer": "https://x.com:port"}}}, "must be a valid URL"),
        ({"oidc": {"kc": {**ISSUER, "scopes": "openid"}}}, "oidc.kc.scopes must be a non-empty"),
        ({"oidc": {"kc": {**ISSUER, "scopes": []}}}, "oidc.kc.scopes must be a non-empty"),
        ({"oidc": {"kc": {**ISSUER, "scopes": ["openid", 3]}}}, "oidc.kc.scopes[1] must be a"),
        ({"oidc": {"kc": {**ISSUER, "scopes": ["profile"]}}}, 'must include "openid"'),
        ({"oidc": {"kc": {**ISSUER, "scopes": ["openid a"]}}}, "must not contain spaces"),
        ({"oidc": {"Key Cloak": ISSUER}}, "oidc.'Key Cloak' is not a valid provider name"),
        ({"oidc": {"../x": ISSUER}}, "is not a valid provider name"),
        ({"oidc": {"": ISSUER}}, "is not a valid provider name"),
        ({"oidc": {"kc\u0131": ISSUER}}, "is not a valid provider name"),
        ({"oidc": {"k" * 33: ISSUER}}, "is not a valid provider name"),
        ({"oidc": {"kc": {**ISSUER, "label": 3}}}, "oidc.kc.label must be a string"),
        ({"oidc": {"kc": {**ISSUER, "label": "K" * 61}}}, "oidc.kc.label must be printable"),
        ({"oidc": {"kc": {**ISSUER, "label": "a\u2028b"}}}, "oidc.kc.label must"),
    ],
)
def test_malformed_documents_name_the_key(document, message):
    with pytest.raises(CredentialsError) as error:
        parse(document)
    assert str(error.value).startswith("credentials.json: ")
    assert message in str(error.value)
    assert "s3cret" not in str(error.value)


def test_issuer_type_message_is_exact():
    with pytest.raises(
        CredentialsError, match=r"^credentials.json: oidc.keycloak.issuer must be a string$"
    ):
        parse({"oidc": {"keycloak": {**ISSUER, "issuer": None}}})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "is not valid JSON"),
        ("", "is not valid JSON"),
        ('{"github": {"id": "a", "secret": "b"}, "github": {}}', "key 'github' appears twice"),
        ("null", "the top level must be an object"),
    ],
)
def test_broken_json(text, message):
    with pytest.raises(CredentialsError, match=message):
        parse_credentials(text)


def test_missing_file_means_no_provider(tmp_path):
    assert find_credentials(tmp_path) is None
    assert load_credentials(root=tmp_path) == Credentials()


def test_root_is_searched_before_run(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "credentials.json").write_text('{"github": {"id": "run", "secret": "s"}}')
    assert load_credentials(root=tmp_path).github.id == "run"
    (tmp_path / "credentials.json").write_text('{"github": {"id": "root", "secret": "s"}}')
    assert load_credentials(root=tmp_path).github.id == "root"


def test_root_defaults_to_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "credentials.json").write_text('{"google": {"id": "cwd", "secret": "s"}}')
    monkeypatch.chdir(tmp_path)
    assert load_credentials().google.id == "cwd"


def test_errors_name_the_file_that_was_read(tmp_path):
    path = tmp_path / "credentials.json"
    path.write_text('{"oidc": {"kc": {"id": "x"}}}')
    with pytest.raises(CredentialsError, match=rf"^{path}: oidc.kc.issuer is missing$"):
        load_credentials(root=tmp_path)


def test_an_explicit_path_must_exist(tmp_path):
    with pytest.raises(CredentialsError, match="cannot be read"):
        load_credentials(tmp_path / "nope.json")


def test_non_utf8_file(tmp_path):
    path = tmp_path / "credentials.json"
    path.write_bytes(b'{"github": "\xff"}')
    with pytest.raises(CredentialsError, match="is not UTF-8"):
        load_credentials(path)


def test_huge_file(tmp_path):
    path = tmp_path / "credentials.json"
    path.write_bytes(b" " * (2 << 20))
    with pytest.raises(CredentialsError, match="is larger than"):
        load_credentials(path)
