"""Providers as people know them: ``google`` is "Google", ``oidc.corp`` is its ``label``
from credentials.json ("Keycloak (corp)") or else "Corp (OpenID Connect)", ``test`` is
"Test account". Pages show these; URLs, forms and JSON keep the names."""

from __future__ import annotations

import flask

from ..state import current_state

KNOWN = {"google": "Google", "github": "GitHub", "facebook": "Facebook", "test": "Test account"}
OIDC = "oidc."


def display_name(provider: str) -> str:
    """The name a person recognises for the provider configured as ``provider``."""
    label = _configured_label(provider)
    if label:
        return label
    if provider in KNOWN:
        return KNOWN[provider]
    if provider.startswith(OIDC):
        issuer = provider[len(OIDC):].replace("_", " ").replace("-", " ")
        return f"{issuer[:1].upper()}{issuer[1:]} (OpenID Connect)"
    return provider[:1].upper() + provider[1:]


def _configured_label(provider: str) -> str | None:
    if not flask.has_app_context():
        return None
    platform = current_state().platforms.get(provider)
    return getattr(platform, "label", None)

