import logging
from urllib.parse import parse_qs, urlsplit

import flask
import pytest

from flask_modular_login.server.platforms import facebook, github, google
from flask_modular_login.server.platforms.credentials import OAuthCredentials
from flask_modular_login.server.platforms.preset import FLASK_DANCE_LOGGER
from flask_modular_login.server.platforms.profile import (
    MAX_NAME,
    Profile,
    ProviderError,
    make_profile,
)

# Canned answers, shaped as the providers document them (values invented).
GOOGLE = {
    "sub": "110169484474386276334",
    "name": "Ada Lovelace",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "picture": "https://lh3.googleusercontent.com/a/ACg8ocK=s96-c",
    "email": "ada@example.com",
    "email_verified": True,
    "locale": "en",
}
GITHUB = {
    "login": "octocat",
    "id": 583231,
    "node_id": "MDQ6VXNlcjU4MzIzMQ==",
    "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
    "type": "User",
    "name": "The Octocat",
    "email": None,
}
FACEBOOK = {
    "id": "10158371264843071",
    "name": "Grace Hopper",
    "picture": {
        "data": {
            "height": 50,
            "is_silhouette": False,
            "url": "https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=10158371264843071",
            "width": 50,
        }
    },
}


def test_google():
    assert google.normalise(GOOGLE) == Profile(
        "110169484474386276334", "Ada Lovelace", GOOGLE["picture"]
    )


def test_google_v2_userinfo_calls_the_subject_id():
    profile = {"id": "110169484474386276334", "name": "Ada", "picture": GOOGLE["picture"]}
    assert google.normalise(profile).subject == "110169484474386276334"


def test_google_name_falls_back_to_given_names_then_subject():
    assert google.normalise({"sub": "1", "given_name": "Ada", "family_name": "L"}).name == "Ada L"
    assert google.normalise({"sub": "1"}) == Profile("1", "1", None)


def test_google_never_uses_the_email_as_subject():
    with pytest.raises(ProviderError, match="google: the profile has no account id"):
        google.normalise({"email": "ada@example.com", "name": "Ada"})


def test_github_subject_is_the_numeric_id_not_the_login():
    assert github.normalise(GITHUB) == Profile(
        "583231", "The Octocat", "https://avatars.githubusercontent.com/u/583231?v=4"
    )


def test_github_name_falls_back_to_login():
    assert github.normalise({**GITHUB, "name": None}).name == "octocat"
    assert github.normalise({**GITHUB, "name": "  "}).name == "octocat"


@pytest.mark.parametrize("bad_id", [None, True, -1, "", 1.5, ["583231"]])
def test_github_without_a_usable_id_is_refused(bad_id):
    with pytest.raises(ProviderError, match="github: the profile has no account id"):
        github.normalise({**GITHUB, "id": bad_id})


def test_github_missing_id_is_refused_even_with_a_login():
    profile = {key: value for key, value in GITHUB.items() if key != "id"}
    with pytest.raises(ProviderError, match="github"):
        github.normalise(profile)


def test_facebook_picture_is_nested():
    assert facebook.normalise(FACEBOOK) == Profile(
        "10158371264843071", "Grace Hopper", FACEBOOK["picture"]["data"]["url"]
    )


@pytest.mark.parametrize("picture", [None, "https://x/y.png", {"data": None}, {"data": {}}])
def test_facebook_without_picture_data(picture):
    assert facebook.normalise({**FACEBOOK, "picture": picture}).picture is None


def test_facebook_missing_id():
    with pytest.raises(ProviderError, match="facebook: the profile has no account id"):
        facebook.normalise({"name": "Grace"})


@pytest.mark.parametrize("module", [google, github, facebook])
@pytest.mark.parametrize("profile", [None, [], "user", 3])
def test_a_profile_that_is_not_an_object_is_refused(module, profile):
    with pytest.raises(ProviderError, match="is not a JSON object"):
        module.normalise(profile)


@pytest.mark.parametrize(
    "picture",
    [
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "//evil.example/x.png",
        "/relative.png",
        "https://x.example/" + "a" * 2000,
        "https://x.example/\n.png",
        42,
    ],
)
def test_unsafe_or_odd_pictures_are_dropped(picture):
    assert make_profile("test", "1", ["n"], picture).picture is None


def test_names_are_tidied_and_cut():
    assert make_profile("test", "1", ["  Ada \n  Lovelace "]).name == "Ada Lovelace"
    assert len(make_profile("test", "1", ["x" * 1000]).name) == MAX_NAME


def test_overlong_or_unprintable_subjects_are_refused():
    with pytest.raises(ProviderError, match="malformed"):
        make_profile("test", "x" * 256, [])
    with pytest.raises(ProviderError, match="malformed"):
        make_profile("test", "a\x00b", [])


@pytest.mark.parametrize(
    ("module", "authorize_host", "scope"),
    [
        (google, "accounts.google.com", "openid https://www.googleapis.com/auth/userinfo.profile"),
        (github, "github.com", None),
        (facebook, "www.facebook.com", "public_profile"),
    ],
)
def test_blueprint_starts_login_with_pkce_and_logs_no_secret(module, authorize_host, scope, caplog):
    blueprint = module.make_blueprint(OAuthCredentials("the-client", "the-secret"))
    app = flask.Flask(__name__)
    app.secret_key = "test"  # noqa: S105
    app.register_blueprint(blueprint, url_prefix="/login")
    caplog.set_level(logging.DEBUG, logger=FLASK_DANCE_LOGGER)

    response = app.test_client().get(f"/login/{module.NAME}")

    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    query = parse_qs(target.query)
    assert target.hostname == authorize_host
    assert query["client_id"] == ["the-client"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query.get("scope", [None]) == [scope]
    assert "the-secret" not in response.headers["Location"]
    assert not [record for record in caplog.records if record.levelno <= logging.DEBUG]


def test_profile_urls():
    assert google.PROFILE_URL.startswith("https://")
    assert github.PROFILE_URL == "https://api.github.com/user"
    assert "fields=id,name,picture" in facebook.PROFILE_URL
