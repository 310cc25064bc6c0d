"""``credentials.json``: which providers are configured, with their client ids and secrets.

The file is looked up at the project root, then in ``run/``; a path given
explicitly replaces the search. No file means no provider is configured (not
an error). Its form (see ``credentials.example.json``)::

    {
      "google":   {"id": "...", "secret": "..."},
      "github":   {"id": "...", "secret": "..."},
      "facebook": {"id": "...", "secret": "..."},
      "oidc": {
        "<name>": {"issuer": "https://...", "id": "...", "secret": "...",
                   "scopes": ["openid", "profile"], "label": "Keycloak (corp)"}
      }
    }

A provider module of your own (see ``docs/providers.md``) adds its ``NAME`` as
one more top-level key of the preset form (``{"id": ..., "secret": ...}``).

Every key is optional except the fields of a listed provider (``scopes``
defaults to ``["openid", "profile"]`` and must contain ``"openid"``). Anything
else -- broken JSON, an unknown or duplicate key, a missing or wrongly typed
field, a plain-http issuer other than on localhost, an OIDC name outside
``[a-z][a-z0-9_-]*`` -- raises :class:`CredentialsError`, whose message names
the file and the key path, e.g. ``credentials.json: oidc.keycloak.issuer must
be a string``. Secrets never appear in messages or in ``repr``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from ...core.errors import LoginError

FILENAME = "credentials.json"
PRESETS = ("google", "github", "facebook")
DEFAULT_SCOPES = ("openid", "profile")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,31}")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_FILE_BYTES = 1 << 20


class CredentialsError(LoginError, ValueError):
    """``credentials.json`` is malformed; the message names the file and the bad key."""

    code = "credentials_invalid"


MAX_LABEL = 60


@dataclass(frozen=True)
class OAuthCredentials:
    """Client id and secret of one OAuth preset (Google, GitHub, Facebook)."""

    id: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class OIDCCredentials:
    """One OpenID Connect issuer and our client registered there."""

    name: str
    issuer: str
    id: str
    secret: str = field(repr=False)
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    label: str | None = None
    """What people read on the pages ("Keycloak (corp)"); None: made from ``name``."""


@dataclass(frozen=True)
class Credentials:
    """Every configured provider; an absent preset is ``None``."""

    google: OAuthCredentials | None = None
    github: OAuthCredentials | None = None
    facebook: OAuthCredentials | None = None
    oidc: Mapping[str, OIDCCredentials] = field(default_factory=lambda: MappingProxyType({}))
    extra: Mapping[str, OAuthCredentials] = field(default_factory=lambda: MappingProxyType({}))
    """Credentials of provider modules beyond the three presets, by module ``NAME``."""

    def oauth(self) -> dict[str, OAuthCredentials]:
        """Every configured OAuth (non-OIDC) provider: the presets, then the extra modules."""
        presets = {name: getattr(self, name) for name in PRESETS}
        return {name: c for name, c in {**presets, **self.extra}.items() if c is not None}

    def providers(self) -> tuple[str, ...]:
        """Names of the configured providers: OAuth modules, then ``oidc.<name>`` in file order."""
        return tuple(self.oauth()) + tuple(f"oidc.{name}" for name in self.oidc)


def find_credentials(
    root: str | os.PathLike[str] | None = None, run_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """``<root>/credentials.json``, else ``<run_dir>/credentials.json``, else ``None``.

    ``root`` defaults to the current directory (the project root under ``server.sh``),
    ``run_dir`` to ``<root>/run``.
    """
    base = Path.cwd() if root is None else Path(root)
    run = base / "run" if run_dir is None else Path(run_dir)
    for candidate in (base / FILENAME, run / FILENAME):
        if candidate.is_file():
            return candidate
    return None


def load_credentials(
    path: str | os.PathLike[str] | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
    run_dir: str | os.PathLike[str] | None = None,
    modules: tuple[str, ...] = (),
) -> Credentials:
    """Read and validate the credentials file.

    With ``path``, that file must exist; without it, :func:`find_credentials`
    looks under ``root`` and ``run_dir`` and a missing file yields an empty
    :class:`Credentials`. ``modules`` names the extra provider modules whose
    keys the file may hold. Raises :class:`CredentialsError`.
    """
    if path is None:
        found = find_credentials(root, run_dir)
        if found is None:
            return Credentials()
        path = found
    path = Path(path)
    return parse_credentials(read_text(path), label=str(path), modules=modules)


def read_text(path: Path) -> str:
    """The file's text, or :class:`CredentialsError` if it cannot be read."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise CredentialsError(f"{path}: cannot be read ({error.strerror})") from None
    if len(data) > MAX_FILE_BYTES:
        raise CredentialsError(f"{path}: is larger than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialsError(f"{path}: is not UTF-8 text") from None


def parse_credentials(
    text: str, *, label: str = FILENAME, modules: tuple[str, ...] = ()
) -> Credentials:
    """Validate the JSON ``text`` of a credentials file (pure). Raises :class:`CredentialsError`.

    ``modules`` are the ``NAME``s of extra provider modules, accepted as top-level
    keys of the preset form.
    """
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicates)
    except _DuplicateKey as duplicate:
        raise CredentialsError(f"{label}: key {duplicate.key!r} appears twice") from None
    except json.JSONDecodeError as error:
        message = f"{label}: is not valid JSON ({error.msg}, line {error.lineno})"
        raise CredentialsError(message) from None
    extra = tuple(name for name in modules if name not in PRESETS)
    return _Reader(label, extra).credentials(document)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


@dataclass(frozen=True)
class _Reader:
    """Checks one decoded document; every error names ``label`` and the key path."""

    label: str
    modules: tuple[str, ...] = ()

    def fail(self, where: str, problem: str) -> CredentialsError:
        subject = where or "the top level"
        return CredentialsError(f"{self.label}: {subject} {problem}")

    def credentials(self, document: object) -> Credentials:
        top = self.mapping(document, "", required=(), optional=(*PRESETS, *self.modules, "oidc"))
        presets = {name: self.preset(top[name], name) for name in PRESETS if name in top}
        extra = {name: self.preset(top[name], name) for name in self.modules if name in top}
        oidc = self.oidc_section(top["oidc"]) if "oidc" in top else {}
        return Credentials(**presets, oidc=MappingProxyType(oidc), extra=MappingProxyType(extra))

    def preset(self, value: object, where: str) -> OAuthCredentials:
        fields = self.mapping(value, where, required=("id", "secret"), optional=())
        return OAuthCredentials(
            id=self.text(fields["id"], f"{where}.id"),
            secret=self.text(fields["secret"], f"{where}.secret"),
        )

    def oidc_section(self, value: object) -> dict[str, OIDCCredentials]:
        if not isinstance(value, dict):
            raise self.fail("oidc", "must be an object")
        issuers = {}
        for name, entry in value.items():
            if not NAME_PATTERN.fullmatch(name):
                raise self.fail(
                    f"oidc.{name!r}",
                    "is not a valid provider name (a lowercase letter, then up to 31 of "
                    "a-z, 0-9, '-', '_')",
                )
            issuers[name] = self.oidc_issuer(name, entry)
        return issuers

    def oidc_issuer(self, name: str, value: object) -> OIDCCredentials:
        where = f"oidc.{name}"
        fields = self.mapping(
            value, where, required=("issuer", "id", "secret"), optional=("scopes", "label")
        )
        return OIDCCredentials(
            name=name,
            issuer=self.issuer(fields["issuer"], f"{where}.issuer"),
            id=self.text(fields["id"], f"{where}.id"),
            secret=self.text(fields["secret"], f"{where}.secret"),
            scopes=self.scopes(fields.get("scopes", list(DEFAULT_SCOPES)), f"{where}.scopes"),
            label=self.display_label(fields["label"], f"{where}.label") if "label" in fields
            else None,
        )

    def display_label(self, value: object, where: str) -> str:
        text = self.text(value, where)
        if len(text) > MAX_LABEL or not text.isprintable():
            raise self.fail(where, f"must be printable and at most {MAX_LABEL} characters")
        return text

    def mapping(
        self, value: object, where: str, *, required: tuple[str, ...], optional: tuple[str, ...]
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be an object")
        prefix = f"{where}." if where else ""
        for key in value:
            if key not in required and key not in optional:
                raise self.fail(f"{prefix}{key}", "is not a known key")
        for key in required:
            if key not in value:
                raise self.fail(f"{prefix}{key}", "is missing")
        return value

    def text(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, "must be a string")
        if not value.strip():
            raise self.fail(where, "must not be empty")
        if not value.isprintable():
            raise self.fail(where, "must not contain control characters")
        return value

    def issuer(self, value: object, where: str) -> str:
        url = self.text(value, where)
        problem = url_problem(url)
        if problem:
            raise self.fail(where, problem)
        return url

    def scopes(self, value: object, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(where, "must be a non-empty list of strings")
        scopes = tuple(self.scope(item, f"{where}[{index}]") for index, item in enumerate(value))
        if "openid" not in scopes:
            raise self.fail(where, 'must include "openid"')
        return scopes

    def scope(self, value: object, where: str) -> str:
        scope = self.text(value, where)
        if any(character.isspace() for character in scope):
            raise self.fail(where, "must not contain spaces")
        return scope


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an issuer or endpoint, or ``None`` if it can.

    It must be absolute, without query or fragment, and ``https`` unless its
    host is ``127.0.0.1``, ``localhost`` or ``::1`` (where plain ``http`` serves tests).
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        return "must be a valid URL"
    if not host or parts.scheme not in ("https", "http"):
        return "must be an absolute https URL"
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        return "must use https (plain http only on 127.0.0.1 or localhost)"
    if parts.query or parts.fragment or parts.username or parts.password:
        return "must not contain a query, a fragment or user info"
    return None
