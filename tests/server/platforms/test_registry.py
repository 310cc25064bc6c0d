"""Which providers a configuration yields; provider modules of your own; the issuer cache."""

import json
import types

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from flask_modular_login.config import load_settings
from flask_modular_login.server.platforms import github, oidc, registry
from flask_modular_login.server.platforms.credentials import CredentialsError, parse_credentials
from tests.support import node_oauth


def settings_for(tmp_path, document, **overrides):
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(document))
    return load_settings({}, environ={}, run_dir=tmp_path / "run", credentials=path, **overrides)


ISSUER = {"issuer": "https://id.example.com", "id": "c", "secret": "s"}


def test_every_configured_provider_by_name(tmp_path):
    document = {"github": {"id": "g", "secret": "s"}, "oidc": {"kc": ISSUER, "a0": ISSUER}}
    providers = registry.load_providers(settings_for(tmp_path, document))
    assert list(providers) == ["github", "oidc.kc", "oidc.a0"]
    assert providers["github"].oauth.blueprint.authorization_url.startswith("https://github.com")
    assert providers["oidc.kc"].issuers is providers["oidc.a0"].issuers, "one cache per service"


def test_no_file_means_no_provider(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert registry.load_providers(load_settings({}, environ={}, run_dir=tmp_path / "run")) == {}


def test_the_file_is_also_found_in_the_run_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "elsewhere"
    run.mkdir()
    (run / "credentials.json").write_text('{"github": {"id": "g", "secret": "s"}}')
    settings = load_settings({}, environ={}, run_dir=run)
    assert list(registry.load_providers(settings)) == ["github"]


def test_a_module_of_your_own_adds_a_credentials_key(tmp_path, monkeypatch):
    monkeypatch.setenv("NODE_OAUTH_ISSUER", "http://127.0.0.1:1")
    document = {"nodeoauth": {"id": "n", "secret": "s"}}
    with pytest.raises(CredentialsError, match="nodeoauth is not a known key"):
        registry.load_providers(settings_for(tmp_path, document))
    settings = settings_for(tmp_path, document, provider_modules="tests.support.node_oauth")
    provider = registry.load_providers(settings)["nodeoauth"]
    assert provider.oauth.creds.id == "n" and provider.oauth.normalise is node_oauth.normalise


def test_modules_are_accepted_as_objects_too(tmp_path, monkeypatch):
    monkeypatch.setenv("NODE_OAUTH_ISSUER", "http://127.0.0.1:1")
    settings = settings_for(tmp_path, {"nodeoauth": {"id": "n", "secret": "s"}},
                            provider_modules=[node_oauth])
    assert list(registry.load_providers(settings)) == ["nodeoauth"]


def module(**parts):
    made = types.ModuleType("my_provider")
    base = {"NAME": "mine", "make_blueprint": github.make_blueprint,
            "PROFILE_URL": "https://x", "normalise": github.normalise}
    for key, value in {**base, **parts}.items():
        if value is not None:
            setattr(made, key, value)
    return made


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("no.such.module", "cannot import 'no.such.module'"),
        (module(normalise=None), "lacks normalise"),
        (module(NAME="Bad Name"), "NAME must match"),
        (module(NAME="sessions"), "NAME must match"),
        (module(NAME="oidc"), "NAME must match"),
    ],
)
def test_unusable_modules_stop_start_up(entry, message):
    with pytest.raises(registry.ProviderModuleError, match=message):
        registry.provider_modules([entry])


def test_a_module_may_replace_a_built_in_one():
    mine = module(NAME="github")
    assert registry.provider_modules([mine])["github"] is mine


def test_extra_module_credentials_are_checked_like_presets():
    with pytest.raises(CredentialsError, match="mine.secret is missing"):
        parse_credentials('{"mine": {"id": "x"}}', modules=("mine",))
    creds = parse_credentials('{"mine": {"id": "x", "secret": "hunter2"}}', modules=("mine",))
    assert creds.providers() == ("mine",) and "hunter2" not in repr(creds)


# ---------------------------------------------------------------- issuer cache


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


METADATA = oidc.ProviderMetadata("https://id.example.com", "https://id.example.com/a",
                                 "https://id.example.com/t", "https://id.example.com/k", None,
                                 ("RS256",), "client_secret_basic")


@pytest.fixture
def fetches(monkeypatch):
    """Count discovery and JWKS fetches; key sets come from ``fetches["jwks"]`` in turn."""
    counted = {"metadata": 0, "jwks": 0, "sets": []}

    def fetch_metadata(issuer, **_):
        counted["metadata"] += 1
        return METADATA

    def fetch_jwks(metadata, **_):
        counted["jwks"] += 1
        return counted["sets"][min(counted["jwks"], len(counted["sets"])) - 1]

    monkeypatch.setattr(oidc, "fetch_metadata", fetch_metadata)
    monkeypatch.setattr(oidc, "fetch_jwks", fetch_jwks)
    return counted


def test_discovery_is_cached_per_issuer_until_the_ttl(fetches):
    clock = Clock()
    cache = oidc.IssuerCache(ttl=100, clock=clock)
    assert cache.metadata("https://id.example.com") is METADATA
    cache.metadata("https://id.example.com")
    assert fetches["metadata"] == 1
    clock.now = 101
    cache.metadata("https://id.example.com")
    assert fetches["metadata"] == 2


def test_a_failed_fetch_is_not_cached(monkeypatch):
    calls = []

    def failing(issuer, **_):
        calls.append(issuer)
        raise oidc.DiscoveryError("down")

    monkeypatch.setattr(oidc, "fetch_metadata", failing)
    cache = oidc.IssuerCache()
    for _ in range(2):
        with pytest.raises(oidc.DiscoveryError):
            cache.metadata("https://id.example.com")
    assert len(calls) == 2


OLD_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NEW_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_set(*pairs):
    return {"keys": [{**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid,
                      "use": "sig"} for kid, key in pairs]}


def id_token(key, kid, now):
    claims = {"iss": METADATA.issuer, "sub": "u", "aud": "c", "exp": now + 60, "iat": now,
              "nonce": "n"}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_an_unknown_kid_fetches_the_key_set_once_more(fetches):
    fetches["sets"] = [key_set(("old", OLD_KEY)), key_set(("old", OLD_KEY), ("new", NEW_KEY))]
    cache = oidc.IssuerCache()
    keys = lambda refresh: cache.jwks(METADATA, refresh)  # noqa: E731
    now = 1_700_000_000
    old = oidc.checked_claims(id_token(OLD_KEY, "old", now), METADATA, "c", "n", keys, now)
    assert old["sub"] == "u" and fetches["jwks"] == 1
    new = oidc.checked_claims(id_token(NEW_KEY, "new", now), METADATA, "c", "n", keys, now)
    assert new["sub"] == "u" and fetches["jwks"] == 2
    oidc.checked_claims(id_token(NEW_KEY, "new", now), METADATA, "c", "n", keys, now)
    assert fetches["jwks"] == 2, "the refreshed set is cached"


def test_a_key_missing_after_the_refresh_is_refused(fetches):
    fetches["sets"] = [key_set(("old", OLD_KEY))]
    cache = oidc.IssuerCache()
    now = 1_700_000_000
    with pytest.raises(oidc.UnknownKey):
        oidc.checked_claims(id_token(NEW_KEY, "new", now), METADATA, "c", "n",
                            lambda refresh: cache.jwks(METADATA, refresh), now)
    assert fetches["jwks"] == 2
