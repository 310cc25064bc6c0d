"""Google, through flask-dance.

The profile is read from Google's OpenID Connect userinfo endpoint, whose
stable id is ``sub`` (the older ``/oauth2/v2/userinfo`` calls the same value
``id``; both are accepted).
"""

from __future__ import annotations

from typing import Any

from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.contrib.google import make_google_blueprint

from .credentials import OAuthCredentials
from .preset import prepare, require_object
from .profile import Profile, make_profile

NAME = "google"
PROFILE_URL = "https://openidconnect.googleapis.com/v1/userinfo"
SCOPES = ["openid", "https://www.googleapis.com/auth/userinfo.profile"]
"""Written as Google echoes them back, so oauthlib sees no scope change."""


def make_blueprint(creds: OAuthCredentials, **options: Any) -> OAuth2ConsumerBlueprint:
    """flask-dance's Google blueprint with PKCE; ``options`` go to ``make_google_blueprint``."""
    options.setdefault("scope", SCOPES)
    blueprint = make_google_blueprint(client_id=creds.id, client_secret=creds.secret, **options)
    return prepare(blueprint)


def normalise(profile: dict[str, Any]) -> Profile:
    """userinfo -> Profile: subject ``sub`` (or ``id``), ``name`` (or given names), ``picture``."""
    fields = require_object(NAME, profile)
    given = " ".join(
        part
        for part in (fields.get("given_name"), fields.get("family_name"))
        if isinstance(part, str)
    )
    return make_profile(
        NAME,
        fields.get("sub", fields.get("id")),
        names=(fields.get("name"), given),
        picture=fields.get("picture"),
    )
