"""GitHub, through flask-dance (the worked example of a provider module).

A provider module needs three things: a blueprint factory
(:func:`make_blueprint`), the URL of the profile to fetch with the token
(:data:`PROFILE_URL`), and a pure :func:`normalise` from that profile to a
:class:`~.profile.Profile`. GitHub's stable id is the numeric ``id``; the
``login`` can be renamed and then taken by someone else, so it is only a
fallback for the display name.
"""

from __future__ import annotations

from typing import Any

from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.contrib.github import make_github_blueprint

from .credentials import OAuthCredentials
from .preset import prepare, require_object
from .profile import Profile, make_profile

NAME = "github"
PROFILE_URL = "https://api.github.com/user"
SCOPES: list[str] = []
"""No scope: the public profile is all we read."""


def make_blueprint(creds: OAuthCredentials, **options: Any) -> OAuth2ConsumerBlueprint:
    """flask-dance's GitHub blueprint with PKCE; ``options`` go to ``make_github_blueprint``."""
    options.setdefault("scope", SCOPES)
    blueprint = make_github_blueprint(client_id=creds.id, client_secret=creds.secret, **options)
    return prepare(blueprint)


def normalise(profile: dict[str, Any]) -> Profile:
    """``GET /user`` -> Profile: subject ``id``, name ``name`` or ``login``, ``avatar_url``."""
    fields = require_object(NAME, profile)
    return make_profile(
        NAME,
        fields.get("id"),
        names=(fields.get("name"), fields.get("login")),
        picture=fields.get("avatar_url"),
    )
