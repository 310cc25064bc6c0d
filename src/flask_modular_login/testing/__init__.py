"""Test helpers for apps that use the login service: a logged-in test client without the
service, its ``run/`` or a database (see docs/testing.md).

* :class:`FakeLoginInterface` (:mod:`.fake`): the real request check over in-memory ports;
* :class:`LoginTestClient` and :func:`plugged` (:mod:`.flask_client`): a Flask test client
  with ``login``/``logout``/``expire``, and the builders of an app switched to the fake;
* the pytest fixtures ``login_client`` and ``fake_login`` (:mod:`.plugin`, registered
  through the ``pytest11`` entry point).

Flask is imported only with :class:`LoginTestClient` and :func:`plugged`.
"""

from __future__ import annotations

from typing import Any

from .fake import FakeLoginInterface

__all__ = ["FakeLoginInterface", "LoginTestClient", "plugged", "builders_of"]


def __getattr__(name: str) -> Any:
    if name in {"LoginTestClient", "plugged", "builders_of"}:
        from . import flask_client

        return getattr(flask_client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
