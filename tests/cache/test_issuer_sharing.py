"""OpenID discovery documents and key sets shared through memcached by every process."""

from __future__ import annotations

import pytest

from flask_modular_login.cache import MemoryCache, cache_key
from flask_modular_login.server.platforms import oidc

ISSUER = "https://id.example.com"
METADATA = oidc.ProviderMetadata(ISSUER, f"{ISSUER}/a", f"{ISSUER}/t", f"{ISSUER}/k", None,
                                 ("RS256", "ES256"), "client_secret_basic", True)
KEYS = {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1", "x": "abc"}]}


@pytest.fixture
def fetched(monkeypatch):
    counted = {"metadata": 0, "jwks": 0}

    def fetch_metadata(issuer, **_):
        counted["metadata"] += 1
        return METADATA

    def fetch_jwks(metadata, **_):
        counted["jwks"] += 1
        return {"keys": [*KEYS["keys"], {"kid": f"k{counted['jwks'] + 1}"}]}

    monkeypatch.setattr(oidc, "fetch_metadata", fetch_metadata)
    monkeypatch.setattr(oidc, "fetch_jwks", fetch_jwks)
    return counted


def test_two_processes_fetch_once_between_them(fetched, memcached, connect, clock):
    first, second = (oidc.IssuerCache(clock=clock, shared=connect(memcached.spec))
                     for _ in range(2))
    assert first.metadata(ISSUER) == METADATA
    assert second.metadata(ISSUER) == METADATA, "rebuilt from the shared JSON"
    assert second.jwks(METADATA) == first.jwks(METADATA)
    assert fetched == {"metadata": 1, "jwks": 1}
    assert memcached.stats()["get_hits"] == 2


def test_an_unknown_key_refreshes_for_everyone(fetched, memcached, connect, clock):
    first, second = (oidc.IssuerCache(clock=clock, shared=connect(memcached.spec))
                     for _ in range(2))
    old = first.jwks(METADATA)
    renewed = first.jwks(METADATA, refresh=True)
    assert renewed != old and fetched["jwks"] == 2
    assert second.jwks(METADATA) == renewed, "the refreshed set was shared"


def test_ttls_discovery_an_hour_keys_ten_minutes(fetched, clock):
    shared = MemoryCache(clock)
    cache = oidc.IssuerCache(clock=clock, shared=shared)
    cache.metadata(ISSUER)
    cache.jwks(METADATA)
    clock.advance(600)
    cache.jwks(METADATA)
    assert fetched == {"metadata": 1, "jwks": 2}
    clock.advance(3000)
    cache.metadata(ISSUER)
    assert fetched["metadata"] == 2


def test_a_shared_document_of_another_shape_is_fetched_again(fetched, clock):
    shared = MemoryCache(clock)
    shared.set(cache_key("oidc", oidc.SHARED_VERSION, "metadata", ISSUER), {"issuer": 1}, 60)
    assert oidc.IssuerCache(clock=clock, shared=shared).metadata(ISSUER) == METADATA
    assert fetched["metadata"] == 1


def test_memcached_down_each_process_fetches_for_itself(fetched, memcached, connect, clock):
    cache = oidc.IssuerCache(clock=clock, shared=connect(memcached.spec))
    memcached.kill()
    assert cache.metadata(ISSUER) == METADATA and cache.metadata(ISSUER) == METADATA
    assert fetched["metadata"] == 1, "still cached in process"
