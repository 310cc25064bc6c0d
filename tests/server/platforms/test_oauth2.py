"""The generic OAuth 2 path of provider modules: no shared state, pure halves, clear errors.

The whole flow against a real server is in tests/server/identities/test_provider_views.py
(the ``nodeoauth`` module).
"""

import threading
from urllib.parse import parse_qs, urlsplit

import pytest

from flask_modular_login.server.platforms import facebook, github, google, oauth2
from flask_modular_login.server.platforms.authorization_code import code_challenge
from flask_modular_login.server.platforms.credentials import OAuthCredentials
from flask_modular_login.server.platforms.profile import LoginDenied, ProviderError

CREDS = OAuthCredentials("the-client", "the-secret")
CALLBACK = "https://login.example.org/login/github/authorized"


def tokens(*values):
    supply = iter(values)
    return lambda _size: next(supply)


def begin(module=github, **options):
    provider = oauth2.OAuth2Provider.from_module(module, CREDS)
    return provider, oauth2.begin_login(provider, CALLBACK, **options)


def test_begin_login_builds_the_authorization_url_with_pkce():
    _, pending = begin(token=tokens("s" * 43, "v" * 64))
    url = urlsplit(pending.url)
    query = {key: value[0] for key, value in parse_qs(url.query).items()}
    assert (url.hostname, url.path) == ("github.com", "/login/oauth/authorize")
    assert query == {
        "response_type": "code",
        "client_id": "the-client",
        "redirect_uri": CALLBACK,
        "state": "s" * 43,
        "code_challenge": code_challenge("v" * 64),
        "code_challenge_method": "S256",
    }
    assert (pending.state, pending.code_verifier) == ("s" * 43, "v" * 64)
    assert "the-secret" not in pending.url


@pytest.mark.parametrize(
    ("module", "scope"),
    [
        (google, "openid https://www.googleapis.com/auth/userinfo.profile"),
        (facebook, "public_profile"),
    ],
)
def test_scopes_are_sent_space_separated(module, scope):
    _, pending = begin(module)
    assert parse_qs(urlsplit(pending.url).query)["scope"] == [scope]


def test_extra_authorization_parameters_of_the_blueprint_are_sent():
    provider = oauth2.OAuth2Provider.from_module(google, CREDS)
    provider.blueprint.authorization_url_params.update(hd="example.com", prompt=None)
    query = parse_qs(urlsplit(oauth2.begin_login(provider, CALLBACK).url).query)
    assert query["hd"] == ["example.com"] and "prompt" not in query


def test_a_blueprint_without_pkce_sends_no_challenge():
    provider = oauth2.OAuth2Provider.from_module(github, CREDS)
    provider.blueprint.use_pkce = False
    pending = oauth2.begin_login(provider, CALLBACK)
    assert pending.code_verifier is None and "code_challenge" not in pending.url
    assert oauth2.PendingAuthorization.from_dict(pending.as_dict()).code_verifier is None


def test_concurrent_starts_share_nothing():
    provider = oauth2.OAuth2Provider.from_module(github, CREDS)
    starts = []
    threads = [threading.Thread(target=lambda: starts.append(
        oauth2.begin_login(provider, CALLBACK))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for pending in starts:
        query = parse_qs(urlsplit(pending.url).query)
        assert query["code_challenge"] == [code_challenge(pending.code_verifier)]
    assert len({pending.code_verifier for pending in starts}) == 8
    assert provider.blueprint.authorization_url_params == {}, "the blueprint is never written"


def test_pending_survives_a_session_round_trip_without_its_url():
    _, pending = begin()
    again = oauth2.PendingAuthorization.from_dict(pending.as_dict())
    assert again == oauth2.PendingAuthorization(pending.state, pending.code_verifier, CALLBACK)
    assert pending.state not in repr(again) and pending.code_verifier not in repr(again)


@pytest.mark.parametrize("stored", [None, {}, {"state": "s"}, {"state": 1, "redirect_uri": "x"}])
def test_pending_missing_from_session(stored):
    with pytest.raises(oauth2.CallbackError, match="no login was started"):
        oauth2.PendingAuthorization.from_dict(stored)


PENDING = oauth2.PendingAuthorization("the-state", "v" * 43, CALLBACK)


def test_callback_gives_the_code():
    assert oauth2.parse_callback({"state": "the-state", "code": "c"}, PENDING) == "c"


@pytest.mark.parametrize("state", [None, "", "other", "the-state2"])
def test_callback_with_wrong_state(state):
    params = {"code": "c", **({} if state is None else {"state": state})}
    with pytest.raises(oauth2.CallbackError, match="state does not match"):
        oauth2.parse_callback(params, PENDING)


def test_denied_consent_is_a_login_denied():
    params = {"state": "the-state", "error": "access_denied"}
    with pytest.raises(oauth2.AuthorizationDenied) as error:
        oauth2.parse_callback(params, PENDING)
    assert isinstance(error.value, LoginDenied) and error.value.error == "access_denied"
    params["error"] = "<script>"
    with pytest.raises(oauth2.AuthorizationDenied, match=r"\(unknown\)"):
        oauth2.parse_callback(params, PENDING)


def test_callback_without_code():
    with pytest.raises(oauth2.CallbackError, match="no code"):
        oauth2.parse_callback({"state": "the-state"}, PENDING)


def test_token_endpoint_over_plain_http_is_refused_without_a_secret_in_the_message():
    provider = oauth2.OAuth2Provider.from_module(github, CREDS)
    provider.blueprint.token_url = "http://github.example/token"
    with pytest.raises(oauth2.TokenExchangeError, match="insecure_transport") as error:
        oauth2.exchange_code(provider, PENDING, "the-code")
    assert "the-code" not in str(error.value) and "the-secret" not in str(error.value)


def test_an_unreachable_token_endpoint(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    provider = oauth2.OAuth2Provider.from_module(github, CREDS)
    provider.blueprint.token_url = "http://127.0.0.1:9/token"
    with pytest.raises(oauth2.TokenExchangeError, match="cannot reach 127.0.0.1"):
        oauth2.exchange_code(provider, PENDING, "the-code", timeout=2)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, b'{"message": "Bad credentials"}', "answered HTTP 401"),
        (200, b"<html>", "not JSON"),
        (200, b" " * (oauth2.MAX_BODY + 1), "too large"),
    ],
)
def test_unusable_profile_answers(status, body, message):
    with pytest.raises(oauth2.ProfileError, match=message):
        oauth2.profile_document("github", status, body)


def test_errors_are_provider_errors_with_codes():
    for error in (oauth2.CallbackError, oauth2.TokenExchangeError, oauth2.ProfileError):
        assert issubclass(error, ProviderError) and error.code.startswith("oauth2_")


def test_relative_urls_are_resolved_against_the_base_url():
    provider = oauth2.OAuth2Provider.from_module(github, CREDS)
    assert provider.url("user") == "https://api.github.com/user"
    assert provider.url(github.PROFILE_URL) == github.PROFILE_URL
