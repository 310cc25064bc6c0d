"""What a client app needs to check leases, the public key set, cannot mint one (SECURITY 20).

The client package's verifier is built here from the key set the service serves
(``/.well-known/jwks.json``) after every private key file has been deleted from ``run/``
and reading a private key has been made to fail the test: it still recognises the genuine
lease, refuses every lease a holder of the public keys can make, and the part that signs
(the lease authority of ``LocalLoginInterface``) cannot even be built.
"""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from flask_modular_login import LocalLoginInterface, keystore
from flask_modular_login.core import leases
from flask_modular_login.core.errors import LeaseError
from flask_modular_login.core.leases import KeyRing, SigningKey
from flask_modular_login.core.verifier import LeaseVerifier


@pytest.fixture
def public_only(service_client, login, run_dir, monkeypatch) -> tuple[str, dict]:
    """A genuine lease and the served key set; no private key is left to read, or readable."""
    token = login("alice")
    jwks = service_client.get("/login/.well-known/jwks.json").json
    files = keystore.key_files(run_dir / "keys")
    assert files, "the service signed with a key file"
    for path in files:
        path.unlink()
    monkeypatch.setattr(serialization, "load_pem_private_key",
                        lambda *args, **kwargs: pytest.fail("a private key was read"))
    return token, jwks


def test_the_public_key_set_alone_verifies_a_genuine_lease(public_only, clock):
    token, jwks = public_only
    assert all("d" not in jwk for jwk in jwks["keys"]), "no private part is served"
    verifier = LeaseVerifier(lambda: KeyRing.from_jwks(jwks), clock)
    assert verifier.lease(token).user()["name"] == "alice"


def test_no_lease_made_with_the_public_key_set_is_accepted(public_only, clock):
    token, jwks = public_only
    ring = KeyRing.from_jwks(jwks)
    verifier = LeaseVerifier(lambda: ring, clock)
    [jwk] = jwks["keys"]
    public_key = ring.get(jwk["kid"])
    assert isinstance(public_key, Ed25519PublicKey) and not hasattr(public_key, "sign")
    with pytest.raises(AttributeError):
        leases.issue(verifier.lease(token), SigningKey(public_key))  # type: ignore[arg-type]
    claims = {**verifier.lease(token).to_claims(), "sub": "mallory", "name": "mallory"}
    headers = {"kid": jwk["kid"]}
    forgeries = {
        "another key under the same kid": jwt.encode(claims, Ed25519PrivateKey.generate(),
                                                     algorithm="EdDSA", headers=headers),
        "HMAC keyed with the public key": jwt.encode(claims, jwk["x"], algorithm="HS256",
                                                     headers=headers),
        "unsigned": jwt.encode(claims, None, algorithm="none", headers=headers),
    }
    for name, forged in forgeries.items():
        with pytest.raises(LeaseError):
            verifier.lease(forged)
            pytest.fail(f"accepted: {name}")


def test_without_a_private_key_file_nothing_that_signs_can_be_built(public_only, run_dir,
                                                                    clock):
    with pytest.raises(FileNotFoundError, match="no signing key"):
        LocalLoginInterface(run_dir=str(run_dir), clock=clock)
