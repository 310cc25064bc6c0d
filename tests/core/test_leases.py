"""The lease core: issue, verify, expiry, renewal, absolute timeout, key rotation (frozen clock)."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flask_modular_login.core import leases
from flask_modular_login.core.errors import LeaseError, LeaseExpired, SessionEnded
from flask_modular_login.core.leases import KeyRing, SessionFacts, SigningKey

NOW = 1_800_000_000
LEASE = 900
DAY = 86_400


@pytest.fixture
def key() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate())


@pytest.fixture
def ring(key: SigningKey) -> KeyRing:
    return KeyRing([key.private_key.public_key()])


def facts(**changes) -> SessionFacts:
    base = dict(session_id="s" * 43, user_id="u1", name="Alice", picture=None,
                auth_time=NOW, expires_at=NOW + 30 * DAY)
    return SessionFacts(**{**base, **changes})


def test_issued_lease_verifies_and_carries_the_user(key, ring):
    token = leases.issue(leases.lease_for(facts(), NOW, LEASE), key)
    lease = leases.verify(token, ring, NOW + LEASE - 1)
    assert lease.user() == {"id": "u1", "name": "Alice", "picture": None}
    assert lease.expires_at == NOW + LEASE
    assert len(token) < 1024


def test_lease_expires_at_its_end_and_carries_its_claims(key, ring):
    token = leases.issue(leases.lease_for(facts(), NOW, LEASE), key)
    with pytest.raises(LeaseExpired) as caught:
        leases.verify(token, ring, NOW + LEASE)
    assert caught.value.lease.session_id == "s" * 43


def test_lease_never_outlives_its_session():
    lease = leases.lease_for(facts(expires_at=NOW + 60), NOW, LEASE)
    assert lease.expires_at == NOW + 60


def test_renewal_gives_a_fresh_lease(key):
    expired = leases.lease_for(facts(), NOW, LEASE)
    renewed = leases.renew(expired, facts(), NOW + 2 * LEASE, LEASE)
    assert renewed.issued_at == NOW + 2 * LEASE
    assert renewed.expires_at == NOW + 3 * LEASE
    assert renewed.auth_time == NOW


def test_renewal_refused_past_the_absolute_session_life():
    expired = leases.lease_for(facts(), NOW, LEASE)
    with pytest.raises(SessionEnded):
        leases.renew(expired, facts(), NOW + 30 * DAY, LEASE)


@pytest.mark.parametrize("session", [None, facts(revoked=True), facts(session_id="other"),
                                     facts(user_id="mallory")])
def test_renewal_refused_for_ended_or_foreign_sessions(session):
    expired = leases.lease_for(facts(), NOW, LEASE)
    with pytest.raises(SessionEnded):
        leases.renew(expired, session, NOW + LEASE, LEASE)


def test_token_signed_by_an_unknown_key_is_refused(key):
    stranger = SigningKey(Ed25519PrivateKey.generate())
    token = leases.issue(leases.lease_for(facts(), NOW, LEASE), stranger)
    with pytest.raises(LeaseError):
        leases.verify(token, KeyRing([key.private_key.public_key()]), NOW)


def test_rotation_keeps_old_leases_valid(key):
    new_key = SigningKey(Ed25519PrivateKey.generate())
    ring = KeyRing([key.private_key.public_key(), new_key.private_key.public_key()])
    old = leases.issue(leases.lease_for(facts(), NOW, LEASE), key)
    new = leases.issue(leases.lease_for(facts(), NOW, LEASE), new_key)
    assert leases.verify(old, ring, NOW).user_id == leases.verify(new, ring, NOW).user_id
    assert jwt.get_unverified_header(new)["kid"] == new_key.kid != key.kid


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_claims_are_refused(key, ring):
    token = leases.issue(leases.lease_for(facts(), NOW, LEASE), key)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "mallory"
    with pytest.raises(LeaseError):
        leases.verify(f"{header}.{_b64(claims)}.{signature}", ring, NOW)


def test_alg_none_and_hmac_confusion_are_refused(key, ring):
    claims = leases.lease_for(facts(), NOW, LEASE).to_claims()
    unsigned = f"{_b64({'alg': 'none', 'kid': key.kid})}.{_b64(claims)}."
    with pytest.raises(LeaseError):
        leases.verify(unsigned, ring, NOW)
    public_x = ring.jwks()["keys"][0]["x"]
    hmac_token = jwt.encode(claims, public_x, algorithm="HS256", headers={"kid": key.kid})
    with pytest.raises(LeaseError):
        leases.verify(hmac_token, ring, NOW)


@pytest.mark.parametrize("garbage", ["", "x", "a.b.c", "..", "eyJ.eyJ.sig", "é" * 50,
                                     "a" * 5000])
def test_garbage_is_a_lease_error(garbage, ring):
    with pytest.raises(LeaseError):
        leases.verify(garbage, ring, NOW)


def test_missing_or_mistyped_claims_are_refused(key, ring):
    claims = leases.lease_for(facts(), NOW, LEASE).to_claims()
    for broken in ({k: v for k, v in claims.items() if k != "sid"}, {**claims, "exp": "soon"},
                   {**claims, "ver": 99}, {**claims, "exp": True}):
        token = jwt.encode(broken, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
        with pytest.raises(LeaseError):
            leases.verify(token, ring, NOW)


def test_jwks_round_trip(key, ring):
    again = KeyRing.from_jwks(json.loads(json.dumps(ring.jwks())))
    token = leases.issue(leases.lease_for(facts(), NOW, LEASE), key)
    assert leases.verify(token, again, NOW).user_id == "u1"
    assert key.kid in again


def _variants(token: str) -> list[str]:
    """The same token with padding, whitespace or other non-canonical base64url."""
    header, payload, signature = token.split(".")
    other_last = {"A": "B", "Q": "R", "g": "h", "w": "x"}[signature[-1]]
    return [token + "==", token + "=", token + " ", " " + token, token + "\n",
            f"{header}.{payload}.{signature[:40]} {signature[40:]}",
            f"{header}.{payload}.{signature[:-1]}{other_last}",
            f"{header}.{payload}.{_standard_alphabet(signature)}",
            f"{header}.{payload}.{signature}A", f"{header}==.{payload}.{signature}",
            f"{header}.{payload}=.{signature}", f"{header}.{payload}.{signature}.",
            token.replace(".", "..", 1)]


def _standard_alphabet(segment: str) -> str:
    """``segment`` spelled with base64's ``+`` and ``/``: always a different spelling (a
    segment without ``-`` or ``_`` gets one ``+`` in place of its first character)."""
    spelled = segment.replace("-", "+").replace("_", "/")
    return spelled if spelled != segment else "+" + segment[1:]


def test_only_the_canonical_unpadded_form_of_a_token_verifies(key, ring):
    token = leases.issue(leases.lease_for(facts(), NOW, LEASE), key)
    assert leases.verify(token, ring, NOW).user_id == "u1"
    for variant in _variants(token):
        assert variant != token
        with pytest.raises(LeaseError):
            leases.verify(variant, ring, NOW)
