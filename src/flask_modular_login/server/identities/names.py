"""Providers as people know them: ``google`` is "Google", ``oidc.corp`` is "Corp (OpenID
Connect)", ``test`` is "Test account". Pages show these; URLs, forms and JSON keep the names."""

from __future__ import annotations

KNOWN = {"google": "Google", "github": "GitHub", "facebook": "Facebook", "test": "Test account"}
OIDC = "oidc."


def display_name(provider: str) -> str:
    """The name a person recognises for the provider configured as ``provider``."""
    if provider in KNOWN:
        return KNOWN[provider]
    if provider.startswith(OIDC):
        issuer = provider[len(OIDC):].replace("_", " ").replace("-", " ")
        return f"{issuer[:1].upper()}{issuer[1:]} (OpenID Connect)"
    return provider[:1].upper() + provider[1:]
