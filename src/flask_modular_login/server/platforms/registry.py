"""The configured providers: ``credentials.json`` + provider modules -> one object per name.

Names are a provider module's ``NAME`` (``google``, ``github``, ``facebook``,
or a module of your own listed in ``LOGIN_PROVIDER_MODULES``) and
``oidc.<name>`` for each OpenID Connect issuer. Every provider offers the
login views the same two halves (:class:`Provider`)::

    url, flow = provider.begin(redirect_uri)    # flow: JSON-able, for the browser's session
    result = provider.finish(flow, request.args) # I/O; raises ProviderError

Nothing here touches the network at start-up: an issuer's discovery document
is fetched at the first login through it, then cached.

Errors at start-up: :class:`~.credentials.CredentialsError` (the file) and
:class:`ProviderModuleError` (a module that cannot be imported or lacks a part).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from types import ModuleType
from typing import Any, Protocol

from ...cache import Cache
from ...config import Settings
from ...core.errors import LoginError
from . import facebook, github, google, oauth2, oidc
from .credentials import NAME_PATTERN, OIDCCredentials, load_credentials
from .profile import LoginResult

BUILT_IN: tuple[ModuleType, ...] = (google, github, facebook)
MODULE_PARTS = ("NAME", "make_blueprint", "PROFILE_URL", "normalise")
RESERVED_NAMES = frozenset(
    {"oidc", "test", "view", "sessions", "logout", "providers", "identities"}
)
"""Module names that would collide with the service's own routes."""


class ProviderModuleError(LoginError, ValueError):
    """A module listed in ``LOGIN_PROVIDER_MODULES`` cannot serve as a provider."""

    code = "provider_module_invalid"


class Provider(Protocol):
    @property
    def name(self) -> str:
        """``NAME`` of the module, or ``oidc.<name>`` (read-only)."""

    def begin(self, redirect_uri: str) -> tuple[str, dict[str, Any]]:
        """The URL to send the browser to, and what to keep for :meth:`finish`."""

    def finish(self, flow: Mapping[str, Any], params: Mapping[str, str]) -> LoginResult:
        """The login's outcome from the callback's query ``params``; raises ProviderError."""


@dataclass(frozen=True)
class ModuleProvider:
    """A provider module (OAuth 2 through its flask-dance blueprint's settings)."""

    oauth: oauth2.OAuth2Provider

    @property
    def name(self) -> str:
        return self.oauth.name

    def begin(self, redirect_uri: str) -> tuple[str, dict[str, Any]]:
        pending = oauth2.begin_login(self.oauth, redirect_uri)
        return pending.url, pending.as_dict()

    def finish(self, flow: Mapping[str, Any], params: Mapping[str, str]) -> LoginResult:
        pending = oauth2.PendingAuthorization.from_dict(flow)
        return oauth2.complete_login(self.oauth, pending, params)


@dataclass
class OIDCProvider:
    """An OpenID Connect issuer; ``now`` is the clock ID tokens are checked against."""

    creds: OIDCCredentials
    issuers: oidc.IssuerCache = field(repr=False)
    now: Callable[[], float] = time.time

    @property
    def name(self) -> str:
        return f"oidc.{self.creds.name}"

    @property
    def label(self) -> str | None:
        """The name the pages show, from ``label`` in credentials.json (None if unset)."""
        return self.creds.label

    def begin(self, redirect_uri: str) -> tuple[str, dict[str, Any]]:
        metadata = self.issuers.metadata(self.creds.issuer)
        pending = oidc.begin_login(metadata, self.creds, redirect_uri)
        return pending.url, pending.as_dict()

    def finish(self, flow: Mapping[str, Any], params: Mapping[str, str]) -> LoginResult:
        pending = oidc.PendingLogin.from_dict(flow)
        metadata = self.issuers.metadata(self.creds.issuer)
        return oidc.finish_login(
            metadata,
            self.creds,
            pending,
            params,
            now=self.now(),
            jwks=lambda refresh: self.issuers.jwks(metadata, refresh),
        )


def load_providers(settings: Settings, cache: Cache | None = None) -> dict[str, Provider]:
    """Every configured provider by name: modules first, then OIDC issuers in file order.
    OIDC discovery documents and key sets are shared through ``cache`` (memcached), if any.

    Raises :class:`~.credentials.CredentialsError` or :class:`ProviderModuleError`.
    """
    modules = provider_modules(settings.provider_modules)
    creds = load_credentials(settings.credentials, run_dir=settings.run_dir, modules=tuple(modules))
    providers: dict[str, Provider] = {
        name: ModuleProvider(oauth2.OAuth2Provider.from_module(modules[name], entry))
        for name, entry in creds.oauth().items()
    }
    issuers = oidc.IssuerCache(shared=cache)
    for entry in creds.oidc.values():
        provider = OIDCProvider(entry, issuers)
        providers[provider.name] = provider
    return providers


def provider_modules(extra: Iterable[str | ModuleType]) -> dict[str, ModuleType]:
    """The built-in modules and ``extra`` (import paths or modules) by ``NAME``.

    A module of your own may replace a built-in one of the same ``NAME``.
    """
    modules = {module.NAME: module for module in BUILT_IN}
    for entry in extra:
        module = checked_module(imported(entry))
        modules[module.NAME] = module
    return modules


def imported(entry: str | ModuleType) -> ModuleType:
    if isinstance(entry, ModuleType):
        return entry
    try:
        return import_module(entry)
    except ImportError as error:
        raise ProviderModuleError(
            f"LOGIN_PROVIDER_MODULES: cannot import {entry!r} ({error})"
        ) from None


def checked_module(module: ModuleType) -> ModuleType:
    """``module`` if it has every part of a provider module and a usable ``NAME``."""
    missing = [part for part in MODULE_PARTS if not hasattr(module, part)]
    if missing:
        raise ProviderModuleError(f"provider module {module.__name__} lacks {', '.join(missing)}")
    name = module.NAME
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or name in RESERVED_NAMES:
        raise ProviderModuleError(
            f"provider module {module.__name__}: NAME must match [a-z][a-z0-9_-]* and not be "
            f"one of {', '.join(sorted(RESERVED_NAMES))}"
        )
    return module
