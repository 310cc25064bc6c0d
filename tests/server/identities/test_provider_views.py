"""Logging in through real providers (node oidc-provider), and every way a callback is refused.

Each refusal must be a page with a 4xx that says why, and start no session.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import pytest
import requests
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from flask_modular_login import create_app
from flask_modular_login.cli import main as cli
from flask_modular_login.server.identities.providers import PENDING_KEY, TOKENS_KEY
from flask_modular_login.server.platforms import oauth2, oidc
from flask_modular_login.server.platforms.credentials import CredentialsError
from tests.server.conftest import (
    PATHS,
    callback_url,
    provider_url,
    service_session,
    session_count,
)
from tests.support.oidc_provider import authorize

pytestmark = pytest.mark.usefixtures("insecure_transport")

CLIENT_NEXT = "http://127.0.0.1:8080/hidden"


@pytest.fixture
def service(provider_service):
    """The conftest fixtures (``service_client``, ``interface``, ``client``) use this service."""
    return provider_service


def assert_refused(response, status, *phrases, app=None):
    """A message page with ``status`` naming every phrase; no lease cookie; no session."""
    assert response.status_code == status, response.text
    assert "text/html" in response.content_type
    for phrase in phrases:
        assert phrase in response.text
    assert response.headers.get("Set-Cookie", "").find("login=") == -1
    if app is not None:
        assert session_count(app) == 0


def user_of(interface, browser):
    cookie = browser.get_cookie("login")
    assert cookie is not None, "no lease cookie"
    return interface.verifier.lease(cookie.value).user()


# ---------------------------------------------------------------- the login page


def test_configured_providers_appear_on_the_login_page(service_client):
    body = service_client.get("/login/", headers={"Accept": "application/json"}).json
    links = {p["name"]: p["url"] for p in body["providers"]}
    assert links == {
        "nodeoauth": "/login/nodeoauth/",
        "oidc.alpha": "/login/oidc/alpha/",
        "oidc.beta": "/login/oidc/beta/",
        "test": "/login/test/",
    }
    page = service_client.get("/login/?next=/login/view/sessions")
    assert 'href="/login/oidc/alpha/?next=/login/view/sessions"' in page.text


def test_only_configured_providers_have_routes(tmp_path, run_dir):
    app = create_app({"LOGIN_RUN_DIR": str(run_dir), "TESTING": True,
                      "LOGIN_CREDENTIALS": str(_write(tmp_path, {}))})
    client = app.test_client()
    assert client.get("/login/providers").json == {"providers": []}
    for path in ("/login/google/", "/login/github/authorized", "/login/oidc/alpha/"):
        assert client.get(path).status_code == 404


def _write(tmp_path, document):
    path = tmp_path / "creds.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"github": {"id": "x"', "is not valid JSON"),
        ({"github": {"id": "x"}}, "github.secret is missing"),
        ({"oidc": {"kc": {"issuer": 5, "id": "x", "secret": "s"}}}, "oidc.kc.issuer must be"),
        ({"gitlab": {"id": "x", "secret": "s"}}, "gitlab is not a known key"),
    ],
)
def test_malformed_credentials_stop_start_up_with_the_message(tmp_path, run_dir, document,
                                                              message, monkeypatch):
    path = _write(tmp_path, document)
    with pytest.raises(CredentialsError, match=re.escape(message)):
        create_app({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_CREDENTIALS": str(path)})
    monkeypatch.setenv("LOGIN_RUN_DIR", str(run_dir))
    monkeypatch.setenv("LOGIN_CREDENTIALS", str(path))
    result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------- logging in


@pytest.mark.parametrize("provider", ["oidc.alpha", "nodeoauth"])
def test_full_login_reaches_a_client_app(provider, service_client, provider_login, client,
                                         interface, at_provider):
    start = service_client.get(f"/login/{PATHS[provider]}/", query_string={"next": CLIENT_NEXT})
    query = dict(parse_qsl(urlsplit(start.location).query))
    assert query["code_challenge_method"] == "S256" and query["redirect_uri"] == callback_url(
        provider)
    done = service_client.get(at_provider(start.location, provider, "alice"))

    assert done.status_code == 302 and done.location == CLIENT_NEXT
    lease = service_client.get_cookie("login")
    assert lease is not None and lease.http_only
    client.set_cookie("login", lease.value)
    user = client.get("/user_info/x").json["user"]
    assert user["name"] == "Test alice"
    assert user["picture"] == "https://example.com/avatars/alice.png"
    assert re.fullmatch(r"[0-9a-f]{32}", user["id"]), "our own id, not the provider's subject"
    ((_, info),) = interface.store.sessions.active(user["id"], interface.authority.now())
    assert info.provider == provider


def test_a_second_login_is_the_same_user_in_a_new_session(service, provider_login, interface):
    first, second = service.test_client(), service.test_client()
    provider_login(first, "oidc.alpha", "carol")
    provider_login(second, "oidc.alpha", "carol")
    one, two = user_of(interface, first), user_of(interface, second)
    assert one == two
    assert len(interface.store.sessions.active(one["id"], interface.authority.now())) == 2


def test_the_same_subject_at_another_provider_is_another_user(service, provider_login,
                                                               interface):
    alpha, beta = service.test_client(), service.test_client()
    provider_login(alpha, "oidc.alpha", "dave")
    provider_login(beta, "oidc.beta", "dave")
    assert user_of(interface, alpha)["id"] != user_of(interface, beta)["id"]


def test_an_unsafe_next_is_replaced_by_the_sessions_page(service_client, provider_login):
    done = provider_login(service_client, "oidc.alpha", "erin", next="//evil.example/x")
    assert done.status_code == 302 and done.location == "/login/view/sessions"


@pytest.mark.parametrize("provider", ["oidc.alpha", "nodeoauth"])
def test_provider_tokens_are_not_kept(provider, service_client, at_provider):
    start = service_client.get(f"/login/{PATHS[provider]}/?next=/login/sessions")
    assert service_session(service_client)[PENDING_KEY]["provider"] == provider
    done = service_client.get(at_provider(start.location, provider, "frank"))
    assert done.status_code == 302 and service_client.get_cookie("login") is not None
    service_client.get("/login/sessions")  # the session now holds a CSRF token
    kept = service_session(service_client)
    assert set(kept) == {"csrf"}, "no pending login, no token, no flask-dance storage"


@pytest.mark.parametrize("provider", ["oidc.alpha", "nodeoauth"])
def test_provider_tokens_are_kept_when_asked(provider, service_config, clock, provider_login,
                                             node_alpha):
    app = create_app({**service_config, "LOGIN_KEEP_PROVIDER_TOKENS": True}, clock=clock)
    browser = app.test_client()
    provider_login(browser, provider, "gina")
    token = service_session(browser)[TOKENS_KEY][provider]
    assert "id_token" not in token
    answer = requests.get(f"{node_alpha.issuer}/me", timeout=10,
                          headers={"Authorization": f"Bearer {token['access_token']}"})
    assert answer.json()["sub"] == "gina"


@pytest.mark.parametrize("provider", ["oidc.alpha", "nodeoauth"])
def test_logs_hold_no_secret(provider, service_client, at_provider, node_alpha, caplog):
    caplog.set_level(logging.DEBUG)
    start = service_client.get(f"/login/{PATHS[provider]}/")
    verifier = service_session(service_client)[PENDING_KEY]["flow"]["code_verifier"]
    callback = at_provider(start.location, provider, "hank")
    code = dict(parse_qsl(urlsplit(callback).query))["code"]
    assert service_client.get(callback).status_code == 302
    assert any(record.name.startswith("urllib3") for record in caplog.records)
    for secret in (node_alpha.client_secret, verifier, code):
        assert secret not in caplog.text


def test_an_unreachable_issuer_is_a_clear_page(tmp_path, run_dir):
    document = {"oidc": {"down": {"issuer": "http://127.0.0.1:9", "id": "x", "secret": "s"}}}
    app = create_app({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": True, "TESTING": True,
                      "LOGIN_CREDENTIALS": str(_write(tmp_path, document))})
    response = app.test_client().get("/login/oidc/down/")
    assert response.status_code == 502 and "unavailable right now" in response.text


def test_linking_an_unreachable_issuer_answers_json_to_json(tmp_path, run_dir, login):
    """The JSON API (docs/openapi.yaml) answers JSON: linking answered an HTML 502."""
    document = {"oidc": {"down": {"issuer": "http://127.0.0.1:9", "id": "x", "secret": "s"}}}
    app = create_app({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": True, "TESTING": True,
                      "LOGIN_CREDENTIALS": str(_write(tmp_path, document))})
    browser = app.test_client()
    login("ivy", client=browser)
    csrf = browser.get("/login/sessions").json["csrf_token"]
    response = browser.post("/login/identities/link", json={"provider": "oidc.down"},
                            headers={"X-CSRF-Token": csrf, "Accept": "application/json"})
    assert response.status_code == 502 and response.is_json
    assert response.json["error"] == "provider_unavailable"
    assert "unavailable right now" in response.json["message"]


# ---------------------------------------------------------------- refused callbacks


def test_denied_consent(service, service_client):
    start = service_client.get("/login/oidc/alpha/")
    with requests.Session() as browser:
        interaction = browser.get(start.location, timeout=10)  # the login form
        back = authorize(browser, interaction.url + "/abort", login="x",
                         stop_at=callback_url("oidc.alpha"))
    response = service_client.get(back)
    assert_refused(response, 403, "refused the login", "access_denied", app=service)


def test_wrong_state_is_refused_and_ends_that_login(service, service_client, at_provider):
    start = service_client.get("/login/oidc/alpha/")
    callback = at_provider(start.location, "oidc.alpha", "ivan")
    params = dict(parse_qsl(urlsplit(callback).query))
    forged = f"{callback_url('oidc.alpha')}?{urlencode({**params, 'state': 'x' * 43})}"
    assert_refused(service_client.get(forged), 400, "state does not match", app=service)
    assert_refused(service_client.get(callback), 400, "no login with oidc.alpha was started",
                   app=service)


def test_a_callback_without_a_started_login_is_refused(service, service_client):
    response = service_client.get("/login/oidc/alpha/authorized?code=c&state=s")
    assert_refused(response, 400, "no login with oidc.alpha was started", app=service)


def test_a_callback_for_another_provider_is_refused(service, service_client, at_provider):
    start = service_client.get("/login/oidc/alpha/")
    callback = at_provider(start.location, "oidc.alpha", "judy")
    other = callback.replace("/oidc/alpha/", "/oidc/beta/")
    assert_refused(service_client.get(other), 400, "no login with oidc.beta", app=service)


def test_a_login_that_took_too_long_is_refused(service, service_client, at_provider, clock):
    start = service_client.get("/login/oidc/alpha/")
    callback = at_provider(start.location, "oidc.alpha", "ken")
    clock.advance(601)
    assert_refused(service_client.get(callback), 400, "took too long", app=service)


@pytest.mark.parametrize("provider", ["oidc.alpha", "nodeoauth"])
def test_a_replayed_code_is_refused(provider, service, service_client, at_provider, interface):
    start = service_client.get(f"/login/{PATHS[provider]}/")
    callback = at_provider(start.location, provider, "leo")
    assert service_client.get(callback).status_code == 302
    before = session_count(service)

    replay = service_client.get(callback)
    assert replay.status_code == 400 and f"no login with {provider} was started" in replay.text

    service_client.get(f"/login/{PATHS[provider]}/")  # a new login; the old code, its state
    state = service_session(service_client)[PENDING_KEY]["flow"]["state"]
    params = {**dict(parse_qsl(urlsplit(callback).query)), "state": state}
    reused = service_client.get(f"{callback_url(provider)}?{urlencode(params)}")
    assert reused.status_code == 400 and "invalid_grant" in reused.text
    assert session_count(service) == before


def test_an_id_token_with_another_nonce_is_refused(service, service_client, at_provider):
    start = service_client.get("/login/oidc/alpha/")
    with service_client.session_transaction("/login/") as session:
        pending = session[PENDING_KEY]
        pending["flow"]["nonce"] = "not-the-nonce-sent"
        session[PENDING_KEY] = pending
    callback = at_provider(start.location, "oidc.alpha", "mia")
    assert_refused(service_client.get(callback), 400, "nonce does not match", app=service)


def test_an_expired_id_token_is_refused(service, service_client, at_provider, monkeypatch):
    provider = service.extensions["flask_modular_login"].platforms["oidc.alpha"]
    monkeypatch.setattr(provider, "now", lambda: time.time() + 7 * 86400)
    start = service_client.get("/login/oidc/alpha/")
    callback = at_provider(start.location, "oidc.alpha", "ned")
    assert_refused(service_client.get(callback), 400, "ID token: expired", app=service)


FORGER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
FORGER_JWKS = {"keys": [{**RSAAlgorithm.to_jwk(FORGER_KEY.public_key(), as_dict=True),
                         "kid": "forger", "use": "sig", "alg": "RS256"}]}


@pytest.fixture
def reissue(service, monkeypatch):
    """Replace the real ID token (after a real code exchange) by one with changed claims.

    The issuer's key set is replaced by one holding the re-signing key, so the
    token fails only on the claim that was changed.
    """
    provider = service.extensions["flask_modular_login"].platforms["oidc.alpha"]
    monkeypatch.setattr(provider.issuers, "jwks", lambda metadata, refresh=False: FORGER_JWKS)
    real_exchange = oidc.exchange_code

    def change(**changes):
        def exchange(*args, **kwargs):
            tokens = real_exchange(*args, **kwargs)
            claims = {**jwt.decode(tokens.id_token, options={"verify_signature": False}),
                      **changes}
            token = jwt.encode(claims, FORGER_KEY, algorithm="RS256", headers={"kid": "forger"})
            return oidc.TokenResponse(token, tokens.access_token)

        monkeypatch.setattr(oidc, "exchange_code", exchange)

    return change


@pytest.mark.parametrize(
    ("changes", "status", "phrase"),
    [
        ({}, 302, None),  # the harness alone changes nothing
        ({"aud": "another-client"}, 400, "aud is not this client"),
        ({"iss": "http://127.0.0.1:1"}, 400, "iss is not the configured issuer"),
        ({"exp": 1_000_000_000, "iat": 999_999_000}, 400, "ID token: expired"),
        ({"nonce": "replayed-nonce"}, 400, "nonce does not match"),
    ],
)
def test_id_token_claims_are_checked_at_the_callback(service, service_client, at_provider,
                                                     reissue, changes, status, phrase):
    reissue(**changes)
    start = service_client.get("/login/oidc/alpha/")
    response = service_client.get(at_provider(start.location, "oidc.alpha", "olga"))
    if phrase is None:
        assert response.status_code == status
        return
    assert_refused(response, status, phrase, app=service)


# ---------------------------------------------------------------- concurrency


@pytest.mark.parametrize(("provider", "module"), [("oidc.alpha", oidc), ("nodeoauth", oauth2)])
def test_concurrent_logins_keep_their_own_pkce_verifiers(provider, module, service,
                                                          at_provider, interface, monkeypatch):
    count = 4
    barrier = threading.Barrier(count, timeout=20)
    real_exchange = module.exchange_code

    def exchange_together(*args, **kwargs):
        barrier.wait()  # every login is between its callback and its token request
        return real_exchange(*args, **kwargs)

    monkeypatch.setattr(module, "exchange_code", exchange_together)
    browsers = [service.test_client() for _ in range(count)]
    callbacks = [at_provider(provider_url(b.get(f"/login/{PATHS[provider]}/")), provider,
                             f"user{n}") for n, b in enumerate(browsers)]
    answers: dict[int, int] = {}

    def finish(n):
        answers[n] = browsers[n].get(callbacks[n]).status_code

    threads = [threading.Thread(target=finish, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == dict.fromkeys(range(count), 302)
    names = [user_of(interface, browser)["name"] for browser in browsers]
    assert names == [f"Test user{n}" for n in range(count)]
