"""Fixtures of the provider tests: the real OpenID Connect provider (``oidc_provider``)."""

from tests.support.oidc_provider import oidc_provider  # noqa: F401 (a fixture)
