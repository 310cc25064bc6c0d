"""Facebook, through flask-dance.

The Graph API returns only the fields asked for, so :data:`PROFILE_URL` names
them. The stable id is the app-scoped ``id``; the picture sits at
``picture.data.url``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_dance.consumer import OAuth2ConsumerBlueprint
from flask_dance.contrib.facebook import make_facebook_blueprint

from .credentials import OAuthCredentials
from .preset import prepare, require_object
from .profile import Profile, make_profile

NAME = "facebook"
PROFILE_URL = "https://graph.facebook.com/me?fields=id,name,picture"
SCOPES = ["public_profile"]


def make_blueprint(creds: OAuthCredentials, **options: Any) -> OAuth2ConsumerBlueprint:
    """flask-dance's Facebook blueprint with PKCE; ``options`` go to ``make_facebook_blueprint``."""
    options.setdefault("scope", SCOPES)
    blueprint = make_facebook_blueprint(client_id=creds.id, client_secret=creds.secret, **options)
    return prepare(blueprint)


def normalise(profile: dict[str, Any]) -> Profile:
    """``/me`` -> Profile: subject ``id``, ``name``, picture from ``picture.data.url``."""
    fields = require_object(NAME, profile)
    return make_profile(
        NAME, fields.get("id"), names=(fields.get("name"),), picture=picture_url(fields)
    )


def picture_url(fields: Mapping[str, object]) -> object:
    """``picture.data.url`` if the nesting is there, else ``None``."""
    picture = fields.get("picture")
    data = picture.get("data") if isinstance(picture, Mapping) else None
    return data.get("url") if isinstance(data, Mapping) else None
