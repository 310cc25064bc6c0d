import base64
import hashlib
import hmac
import json
import time
import warnings
from urllib.parse import parse_qs, parse_qsl, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from flask_modular_login.server.platforms import oidc
from flask_modular_login.server.platforms.credentials import OIDCCredentials
from flask_modular_login.server.platforms.profile import Profile, ProviderError
from tests.support.oidc_provider import authorize

ISSUER = "https://id.example.com"
CLIENT = "our-client"
NONCE = "n-0S6_WzA2Mj"
NOW = 1_700_000_000
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())

DISCOVERY = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/auth?tenant=1",
    "token_endpoint": f"{ISSUER}/token",
    "jwks_uri": f"{ISSUER}/jwks",
    "userinfo_endpoint": f"{ISSUER}/me",
    "id_token_signing_alg_values_supported": ["RS256", "ES256", "HS256", "none"],
    "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
    "authorization_response_iss_parameter_supported": True,
}
METADATA = oidc.parse_discovery(DISCOVERY, ISSUER)
CREDS = OIDCCredentials("example", ISSUER, CLIENT, "the-client-secret")


def public_jwk(key, kid, algorithm=RSAAlgorithm):
    return {**algorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "use": "sig"}


JWKS = {"keys": [public_jwk(RSA_KEY, "rsa1"), public_jwk(EC_KEY, "ec1", ECAlgorithm)]}


def claims(**changes):
    base = {
        "iss": ISSUER,
        "sub": "248289761001",
        "aud": CLIENT,
        "exp": NOW + 300,
        "iat": NOW,
        "nonce": NONCE,
        "name": "Jane Doe",
        "picture": "https://id.example.com/jane.png",
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def sign(payload, key=RSA_KEY, alg="RS256", kid="rsa1"):
    headers = {"kid": kid} if kid else {}
    return jwt.encode(payload, key, algorithm=alg, headers=headers)


def validate(token, **options):
    arguments = {"jwks": JWKS, "metadata": METADATA, "client_id": CLIENT, "nonce": NONCE}
    return oidc.validate_id_token(token, now=NOW, **{**arguments, **options})


# ---------------------------------------------------------------- ID token validation


def test_valid_id_token():
    assert validate(sign(claims()))["sub"] == "248289761001"


def test_valid_es256_id_token():
    assert validate(sign(claims(), EC_KEY, "ES256", "ec1"))["sub"] == "248289761001"


def test_token_without_kid_is_tried_against_fitting_keys():
    assert validate(sign(claims(), kid=None))["sub"] == "248289761001"


def test_wrong_audience():
    with pytest.raises(oidc.AudienceMismatch, match="aud is not this client"):
        validate(sign(claims(aud="someone-else")))


def test_audience_list_needs_azp():
    with pytest.raises(oidc.AudienceMismatch, match="azp"):
        validate(sign(claims(aud=[CLIENT, "other"])))
    assert validate(sign(claims(aud=[CLIENT, "other"], azp=CLIENT)))


def test_foreign_azp():
    with pytest.raises(oidc.AudienceMismatch, match="azp"):
        validate(sign(claims(azp="other")))


def test_wrong_issuer():
    with pytest.raises(oidc.IssuerMismatch, match="iss is not the configured issuer"):
        validate(sign(claims(iss="https://evil.example.com")))


def test_issuer_must_match_exactly():
    with pytest.raises(oidc.IssuerMismatch):
        validate(sign(claims(iss=ISSUER + "/")))


@pytest.mark.parametrize("nonce", ["another-nonce", None, 123])
def test_wrong_or_missing_nonce(nonce):
    with pytest.raises(oidc.NonceMismatch, match="nonce does not match"):
        validate(sign(claims(nonce=nonce)))


def test_expired():
    token = sign(claims(exp=NOW - 120))
    with pytest.raises(oidc.TokenExpired, match="expired"):
        validate(token)


def test_expiry_allows_some_clock_skew():
    assert validate(sign(claims(exp=NOW - 30)))


def test_issued_in_the_future():
    with pytest.raises(oidc.TokenExpired, match="future"):
        validate(sign(claims(iat=NOW + 600)))


def test_not_before_in_the_future():
    with pytest.raises(oidc.TokenExpired, match="future"):
        validate(sign(claims(nbf=NOW + 600)))


def test_validation_uses_the_real_clock_by_default():
    fresh = sign(claims(iat=int(time.time()), exp=int(time.time()) + 60))
    args = {"jwks": JWKS, "metadata": METADATA, "client_id": CLIENT, "nonce": NONCE}
    assert oidc.validate_id_token(fresh, **args)
    with pytest.raises(oidc.TokenExpired):
        oidc.validate_id_token(sign(claims()), **args)


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "aud", "iss"])
def test_required_claims(missing):
    with pytest.raises(oidc.IdTokenError, match=f"{missing} claim is missing"):
        validate(sign(claims(**{missing: None})))


def test_non_numeric_times():
    with pytest.raises(oidc.IdTokenError):
        validate(sign(claims(exp="tomorrow")))


def test_alg_none_is_refused():
    token = jwt.encode(claims(), None, algorithm="none")
    with pytest.raises(oidc.AlgorithmRefused, match="'none' is not accepted"):
        validate(token)


def test_alg_none_is_refused_even_if_metadata_claims_it():
    metadata = oidc.ProviderMetadata(**{**METADATA.__dict__, "signing_algorithms": ("none",)})
    token = jwt.encode(claims(), None, algorithm="none")
    with pytest.raises(oidc.IdTokenError):
        validate(token, metadata=metadata)


def test_hmac_signed_with_the_public_key_is_refused():
    public_pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": "rsa1"}).encode())
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode())
    signing_input = header.rstrip(b"=") + b"." + body.rstrip(b"=")
    mac = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    token = (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    with pytest.raises(oidc.AlgorithmRefused):
        validate(token)


def test_alg_not_announced_by_the_issuer():
    metadata = oidc.ProviderMetadata(**{**METADATA.__dict__, "signing_algorithms": ("ES256",)})
    with pytest.raises(oidc.AlgorithmRefused, match="RS256"):
        validate(sign(claims()), metadata=metadata)


def test_bad_signature():
    with pytest.raises(oidc.SignatureInvalid, match="signature does not verify"):
        validate(sign(claims(), OTHER_RSA_KEY))


def test_tampered_payload():
    header, _, signature = sign(claims()).split(".")
    forged = base64.urlsafe_b64encode(json.dumps(claims(sub="admin")).encode()).rstrip(b"=")
    with pytest.raises(oidc.SignatureInvalid):
        validate(f"{header}.{forged.decode()}.{signature}")


def test_unknown_kid():
    with pytest.raises(oidc.UnknownKey, match="no key"):
        validate(sign(claims(), kid="rotated-away"))


def test_key_of_the_wrong_type_for_the_alg():
    # An ES256 header naming the RSA key's kid: no EC key carries that kid.
    with pytest.raises(oidc.UnknownKey):
        validate(sign(claims(), EC_KEY, "ES256", "rsa1"))


def test_encryption_key_is_not_used_for_signatures():
    jwks = {"keys": [{**public_jwk(RSA_KEY, "rsa1"), "use": "enc"}]}
    with pytest.raises(oidc.UnknownKey):
        validate(sign(claims()), jwks=jwks)


def test_short_rsa_key_is_refused():
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = sign(claims(), short, kid="short")
    jwks = {"keys": [public_jwk(short, "short")]}
    with pytest.raises(oidc.IdTokenError):
        validate(token, jwks=jwks)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "e30.e30"])
def test_malformed_tokens(token):
    with pytest.raises(oidc.IdTokenError):
        validate(token)


def test_errors_are_provider_errors_with_codes():
    with pytest.raises(ProviderError) as error:
        validate(sign(claims(aud="x")))
    assert error.value.code == "oidc_id_token_aud"


# ---------------------------------------------------------------- discovery


def test_discovery_keeps_only_allowed_algorithms():
    assert METADATA.signing_algorithms == ("RS256", "ES256")
    assert METADATA.token_auth_method == "client_secret_basic"
    assert METADATA.iss_parameter_supported


def test_discovery_url():
    assert oidc.discovery_url("https://x.com/realms/a/") == (
        "https://x.com/realms/a/.well-known/openid-configuration"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issuer": "https://evil.example.com"}, "issuer is not"),
        ({"issuer": ISSUER + "/"}, "issuer is not"),
        ({"issuer": None}, "issuer is not"),
        ({"token_endpoint": None}, "token_endpoint is missing"),
        ({"jwks_uri": "http://id.example.com/jwks"}, "jwks_uri must use https"),
        ({"authorization_endpoint": 3}, "authorization_endpoint is missing"),
        ({"id_token_signing_alg_values_supported": ["HS256", "none"]}, "no ID token signing"),
        ({"id_token_signing_alg_values_supported": None}, "is missing"),
        ({"token_endpoint_auth_methods_supported": ["private_key_jwt"]}, "neither"),
    ],
)
def test_bad_discovery(changes, message):
    with pytest.raises(oidc.DiscoveryError, match=message):
        oidc.parse_discovery({**DISCOVERY, **changes}, ISSUER)


def test_discovery_defaults():
    document = {**DISCOVERY}
    del document["token_endpoint_auth_methods_supported"]
    del document["userinfo_endpoint"]
    del document["authorization_response_iss_parameter_supported"]
    metadata = oidc.parse_discovery(document, ISSUER)
    assert metadata.token_auth_method == "client_secret_basic"
    assert metadata.userinfo_endpoint is None
    assert not metadata.iss_parameter_supported


def test_discovery_not_an_object():
    with pytest.raises(oidc.DiscoveryError, match="JSON object"):
        oidc.parse_discovery([], ISSUER)


# ---------------------------------------------------------------- authorization request


def counter():
    values = iter(["state-1", "nonce-1", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"])
    return lambda size: next(values)


def test_begin_login_builds_the_authorization_url():
    pending = oidc.begin_login(
        METADATA,
        CREDS,
        "https://login.example.org/cb",
        extra={"prompt": "login"},
        token=counter(),
    )
    parts = urlsplit(pending.url)
    query = parse_qs(parts.query)
    assert parts.netloc == "id.example.com" and parts.path == "/auth"
    assert query == {
        "tenant": ["1"],
        "prompt": ["login"],
        "response_type": ["code"],
        "client_id": [CLIENT],
        "redirect_uri": ["https://login.example.org/cb"],
        "scope": ["openid profile"],
        "state": ["state-1"],
        "nonce": ["nonce-1"],
        # RFC 7636 appendix B
        "code_challenge": ["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"],
        "code_challenge_method": ["S256"],
    }
    assert "the-client-secret" not in pending.url


def test_begin_login_is_random_by_default():
    first, second = (oidc.begin_login(METADATA, CREDS, "https://l/cb") for _ in range(2))
    assert len({first.state, second.state, first.nonce, second.nonce}) == 4
    assert 43 <= len(first.code_verifier) <= 128


def test_pending_login_survives_a_session_round_trip():
    pending = oidc.begin_login(METADATA, CREDS, "https://l/cb")
    stored = json.loads(json.dumps(pending.as_dict()))
    assert oidc.PendingLogin.from_dict(stored) == oidc.PendingLogin(**pending.as_dict())
    assert pending.state not in repr(pending)


@pytest.mark.parametrize("stored", [None, {}, {"state": "s"}, "x", {"state": 1, "nonce": 2}])
def test_pending_login_missing_from_session(stored):
    with pytest.raises(oidc.CallbackError, match="no login was started"):
        oidc.PendingLogin.from_dict(stored)


# ---------------------------------------------------------------- callback


PENDING = oidc.PendingLogin(
    state="the-state",
    nonce=NONCE,
    code_verifier="v" * 43,
    redirect_uri="https://login.example.org/cb",
)


def callback(**params):
    base = {"code": "the-code", "state": "the-state", "iss": ISSUER}
    base.update(params)
    return {key: value for key, value in base.items() if value is not None}


def test_callback_gives_the_code():
    assert oidc.parse_callback(callback(), PENDING, METADATA) == "the-code"


@pytest.mark.parametrize("state", ["other-state", "", None, "the-state "])
def test_callback_with_wrong_state(state):
    with pytest.raises(oidc.CallbackError, match="state does not match"):
        oidc.parse_callback(callback(state=state), PENDING, METADATA)


def test_callback_from_another_issuer():
    with pytest.raises(oidc.CallbackError, match="another issuer"):
        oidc.parse_callback(callback(iss="https://evil.example.com"), PENDING, METADATA)


def test_callback_without_promised_iss():
    with pytest.raises(oidc.CallbackError, match="lacks the iss"):
        oidc.parse_callback(callback(iss=None), PENDING, METADATA)
    metadata = oidc.ProviderMetadata(**{**METADATA.__dict__, "iss_parameter_supported": False})
    assert oidc.parse_callback(callback(iss=None), PENDING, metadata) == "the-code"


def test_denied_consent():
    with pytest.raises(oidc.AuthorizationDenied, match=r"refused the login \(access_denied\)"):
        oidc.parse_callback(callback(code=None, error="access_denied"), PENDING, METADATA)


def test_odd_error_codes_are_not_echoed():
    with pytest.raises(oidc.AuthorizationDenied) as error:
        oidc.parse_callback(callback(error="<script>"), PENDING, METADATA)
    assert error.value.error == "unknown"
    assert "<script>" not in str(error.value)


def test_callback_without_code():
    with pytest.raises(oidc.CallbackError, match="no code"):
        oidc.parse_callback(callback(code=None), PENDING, METADATA)


# ---------------------------------------------------------------- token endpoint (no network)


class FakeHTTP(requests.Session):
    """Answers every request with one canned response and remembers the requests."""

    def __init__(self, status=200, body=b"{}"):
        super().__init__()
        self.status, self.body, self.sent = status, body, []

    def request(self, method, url, **kwargs):
        self.sent.append((method, url, kwargs))
        response = requests.Response()
        response.status_code = self.status
        response._content = (
            self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()
        )
        response._content_consumed = True
        return response


def test_exchange_with_client_secret_basic():
    http = FakeHTTP(body={"id_token": "x.y.z", "access_token": "at", "token_type": "Bearer"})
    tokens = oidc.exchange_code(METADATA, CREDS, PENDING, "the-code", http=http)
    assert tokens == oidc.TokenResponse("x.y.z", "at")
    ((method, url, kwargs),) = http.sent
    assert (method, url, kwargs["allow_redirects"]) == ("POST", f"{ISSUER}/token", False)
    assert kwargs["data"] == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": "https://login.example.org/cb",
        "code_verifier": "v" * 43,
    }
    credentials = base64.b64decode(kwargs["headers"]["Authorization"].removeprefix("Basic "))
    assert credentials == b"our-client:the-client-secret"
    assert kwargs["timeout"] == oidc.TIMEOUT
    assert "at" not in repr(tokens) and "x.y.z" not in repr(tokens)


def test_basic_credentials_are_form_encoded():
    header = oidc.basic_authorization("a:b", "c d/é")
    assert base64.b64decode(header.removeprefix("Basic ")) == b"a%3Ab:c+d%2F%C3%A9"


def test_exchange_with_client_secret_post():
    metadata = oidc.ProviderMetadata(
        **{**METADATA.__dict__, "token_auth_method": "client_secret_post"}
    )
    http = FakeHTTP(body={"id_token": "x.y.z"})
    assert oidc.exchange_code(metadata, CREDS, PENDING, "c", http=http).access_token is None
    ((_, _, kwargs),) = http.sent
    assert "Authorization" not in kwargs["headers"]
    assert kwargs["data"]["client_id"] == CLIENT
    assert kwargs["data"]["client_secret"] == "the-client-secret"


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            400,
            {"error": "invalid_grant", "error_description": "used"},
            r"refused \(invalid_grant\)",
        ),
        (401, {"error": "invalid_client"}, r"refused \(invalid_client\)"),
        (200, {"error": "<b>odd</b>"}, r"refused \(None\)"),
        (200, {"access_token": "at"}, "no id_token"),
        (500, b"<html>oops</html>", "without JSON"),
        (200, [], "without a JSON object"),
        (200, b"x" * (oidc.MAX_BODY + 10), "too large"),
    ],
)
def test_token_endpoint_refusals(status, body, message):
    http = FakeHTTP(status, body)
    with pytest.raises(oidc.TokenExchangeError, match=message) as error:
        oidc.exchange_code(METADATA, CREDS, PENDING, "the-code", http=http)
    assert "the-code" not in str(error.value)
    assert "the-client-secret" not in str(error.value)


def test_unreachable_token_endpoint():
    class Down(requests.Session):
        def request(self, *args, **kwargs):
            raise requests.ConnectionError("refused")

    with pytest.raises(oidc.TokenExchangeError, match="cannot reach id.example.com"):
        oidc.exchange_code(METADATA, CREDS, PENDING, "the-code", http=Down())


def test_bearer_only_access_tokens_are_kept():
    answer = {"id_token": "t", "access_token": "at", "token_type": "DPoP"}
    assert oidc.parse_token_response(200, answer).access_token is None


# ---------------------------------------------------------------- claims -> profile


def test_profile_from_claims():
    assert oidc.profile_from_claims("oidc.x", claims()) == Profile(
        "248289761001", "Jane Doe", "https://id.example.com/jane.png"
    )


def test_profile_name_fallbacks():
    assert oidc.profile_from_claims("oidc.x", {"sub": "1", "preferred_username": "jd"}).name == "jd"
    named = {"sub": "1", "given_name": "Jane", "family_name": "Doe"}
    assert oidc.profile_from_claims("oidc.x", named).name == "Jane Doe"
    assert oidc.profile_from_claims("oidc.x", {"sub": "1"}) == Profile("1", "1", None)


def test_userinfo_must_be_about_the_same_subject():
    with pytest.raises(oidc.UserInfoError, match="sub differs"):
        oidc.merge_userinfo(claims(), {"sub": "someone-else", "name": "Mallory"})
    merged = oidc.merge_userinfo({"sub": "1", "iss": ISSUER}, {"sub": "1", "name": "J", "iss": "x"})
    assert merged == {"sub": "1", "iss": ISSUER, "name": "J"}


def test_wants_userinfo():
    assert not oidc.wants_userinfo(claims())
    assert oidc.wants_userinfo(claims(name=None))
    assert oidc.wants_userinfo(claims(picture=None))


# ---------------------------------------------------------------- against a real provider


@pytest.fixture
def real(oidc_provider):
    """Metadata and credentials of the node oidc-provider."""
    metadata = oidc.fetch_metadata(oidc_provider.issuer)
    creds = OIDCCredentials(
        "test", oidc_provider.issuer, oidc_provider.client_id, oidc_provider.client_secret
    )
    return metadata, creds, oidc_provider.redirect_uri


def log_in(metadata, creds, redirect_uri, login="alice"):
    """Start a login and drive the provider's forms; ``(pending, callback params)``."""
    pending = oidc.begin_login(metadata, creds, redirect_uri)
    with requests.Session() as browser:
        url = authorize(browser, pending.url, login=login, stop_at=redirect_uri)
    return pending, dict(parse_qsl(urlsplit(url).query))


def test_real_discovery(real):
    metadata, creds, _ = real
    assert metadata.issuer == creds.issuer
    assert metadata.token_auth_method == "client_secret_basic"
    assert "RS256" in metadata.signing_algorithms
    assert metadata.iss_parameter_supported


def test_real_authorization_code_flow_step_by_step(real):
    metadata, creds, redirect_uri = real
    pending, params = log_in(metadata, creds, redirect_uri)

    code = oidc.parse_callback(params, pending, metadata)
    tokens = oidc.exchange_code(metadata, creds, pending, code)
    jwks = oidc.fetch_jwks(metadata)
    claims = oidc.validate_id_token(
        tokens.id_token, jwks=jwks, metadata=metadata, client_id=creds.id, nonce=pending.nonce
    )
    assert claims["sub"] == "alice"
    assert claims["iss"] == creds.issuer
    # oidc-provider keeps profile claims out of a code-flow ID token: userinfo has them.
    assert oidc.wants_userinfo(claims)
    userinfo = oidc.fetch_userinfo(metadata, tokens.access_token)
    profile = oidc.profile_from_claims("oidc.test", oidc.merge_userinfo(claims, userinfo))
    assert profile == Profile("alice", "Test alice", "https://example.com/avatars/alice.png")

    with pytest.raises(oidc.TokenExchangeError) as replay:
        oidc.exchange_code(metadata, creds, pending, code)
    assert replay.value.error == "invalid_grant"
    assert code not in str(replay.value)


def test_real_complete_login_and_replayed_callback(real):
    metadata, creds, redirect_uri = real
    pending, params = log_in(metadata, creds, redirect_uri, login="bob")
    profile = oidc.complete_login(metadata, creds, pending, params)
    assert profile == Profile("bob", "Test bob", "https://example.com/avatars/bob.png")
    with pytest.raises(oidc.TokenExchangeError, match="invalid_grant"):
        oidc.complete_login(metadata, creds, pending, params)


def test_real_id_token_checked_against_the_right_nonce_and_audience(real):
    metadata, creds, redirect_uri = real
    pending, params = log_in(metadata, creds, redirect_uri)
    tokens = oidc.exchange_code(metadata, creds, pending, params["code"])
    jwks = oidc.fetch_jwks(metadata)
    arguments = {"jwks": jwks, "metadata": metadata, "client_id": creds.id, "nonce": "x"}
    with pytest.raises(oidc.NonceMismatch):
        oidc.validate_id_token(tokens.id_token, **arguments)
    with pytest.raises(oidc.AudienceMismatch):
        oidc.validate_id_token(
            tokens.id_token, **{**arguments, "client_id": "other", "nonce": pending.nonce}
        )
    with pytest.raises(oidc.TokenExpired):
        oidc.validate_id_token(
            tokens.id_token, **{**arguments, "nonce": pending.nonce}, now=time.time() + 7 * 86400
        )


def test_real_provider_requires_the_pkce_verifier(real):
    metadata, creds, redirect_uri = real
    pending, params = log_in(metadata, creds, redirect_uri)
    forged = oidc.PendingLogin(**{**pending.as_dict(), "code_verifier": "w" * 43})
    with pytest.raises(oidc.TokenExchangeError) as error:
        oidc.exchange_code(metadata, creds, forged, params["code"])
    assert error.value.error == "invalid_grant"


def test_real_provider_refuses_a_wrong_client_secret(real):
    metadata, creds, redirect_uri = real
    pending, params = log_in(metadata, creds, redirect_uri)
    wrong = OIDCCredentials(creds.name, creds.issuer, creds.id, "not-the-secret")
    with pytest.raises(oidc.TokenExchangeError) as error:
        oidc.exchange_code(metadata, wrong, pending, params["code"])
    assert error.value.error == "invalid_client"
    assert "not-the-secret" not in str(error.value)


def test_real_callback_of_another_login_is_refused(real):
    metadata, creds, redirect_uri = real
    _, params = log_in(metadata, creds, redirect_uri)
    mine = oidc.begin_login(metadata, creds, redirect_uri)
    with pytest.raises(oidc.CallbackError, match="state does not match"):
        oidc.complete_login(metadata, creds, mine, params)


def test_real_denied_consent(real):
    metadata, creds, redirect_uri = real
    pending = oidc.begin_login(metadata, creds, redirect_uri)
    with requests.Session() as browser:
        interaction = browser.get(pending.url, timeout=10)  # follows to the login form
        assert interaction.status_code == 200
        abort = interaction.url + "/abort"  # the form's "Cancel" link
        location = authorize(browser, abort, login="unused", stop_at=redirect_uri)
    params = dict(parse_qsl(urlsplit(location).query))
    with pytest.raises(oidc.AuthorizationDenied) as error:
        oidc.complete_login(metadata, creds, pending, params)
    assert error.value.error == "access_denied"


def test_real_discovery_of_a_wrong_issuer_is_refused(oidc_provider):
    claimed = oidc_provider.issuer.replace("127.0.0.1", "localhost")
    with pytest.raises(oidc.DiscoveryError):
        oidc.fetch_metadata(claimed)
