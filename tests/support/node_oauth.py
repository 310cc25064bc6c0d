"""A provider module of our own, for the tests: plain OAuth 2 against the node oidc-provider.

It has the four parts every provider module has (see docs/providers.md):
``NAME``, ``make_blueprint``, ``PROFILE_URL`` and ``normalise``. The issuer's
URL comes from ``NODE_OAUTH_ISSUER`` (the tests start the provider on a free
port). No OpenID Connect check is made on this path: it is the generic OAuth 2
flow the Google, GitHub and Facebook modules use.
"""

from __future__ import annotations

import os
from typing import Any

from flask_dance.consumer import OAuth2ConsumerBlueprint

from flask_modular_login.server.platforms.credentials import OAuthCredentials
from flask_modular_login.server.platforms.preset import prepare, require_object
from flask_modular_login.server.platforms.profile import Profile, make_profile

NAME = "nodeoauth"
PROFILE_URL = "me"
"""Relative to the blueprint's ``base_url``: the provider's userinfo endpoint."""


def make_blueprint(creds: OAuthCredentials, **options: Any) -> OAuth2ConsumerBlueprint:
    issuer = os.environ["NODE_OAUTH_ISSUER"]
    blueprint = OAuth2ConsumerBlueprint(
        NAME,
        __name__,
        client_id=creds.id,
        client_secret=creds.secret,
        scope=["openid", "profile"],
        base_url=f"{issuer}/",
        authorization_url=f"{issuer}/auth",
        token_url=f"{issuer}/token",
        **options,
    )
    return prepare(blueprint)


def normalise(profile: dict[str, Any]) -> Profile:
    fields = require_object(NAME, profile)
    return make_profile(NAME, fields.get("sub"), [fields.get("name")], fields.get("picture"))
