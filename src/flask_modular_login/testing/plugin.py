"""The pytest plugin (entry point ``pytest11``): fixtures for apps that use the login service.

Installing ``flask_modular_login`` is enough; an app's tests get::

    def test_room(login_client):
        client = login_client(app)               # app.test_client(), checked by a fake
        client.login(user_id="u1", name="Ann", groups=["chat/room", "admins"])
        assert client.get("/chats/room").status_code == 200

* ``login_client(app, *builders, **settings)``: a :class:`~.flask_client.LoginTestClient`
  for ``app``; every builder guarding the app (and the default ``login_required``) checks
  with the test's fake until the test ends. ``builders`` adds builders (or decorators)
  none of the app's views uses yet. ``settings`` are only taken by the first call of a
  test, which builds the fake (``lease_seconds=...``).
* ``fake_login``: the test's :class:`~.fake.FakeLoginInterface` (sessions, leases,
  memberships), shared by every ``login_client`` of the test.

Disable with ``-p no:flask_modular_login``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .fake import FakeLoginInterface
    from .flask_client import LoginTestClient


@pytest.fixture
def fake_login() -> FakeLoginInterface:
    """An in-memory login interface: throwaway signing key, in-memory feed and memberships."""
    from .fake import FakeLoginInterface

    return FakeLoginInterface()


@pytest.fixture
def login_client(request: pytest.FixtureRequest) -> Iterator[Callable[..., LoginTestClient]]:
    """A factory: ``login_client(app)`` is a test client with ``login``/``logout``/``expire``."""
    from .fake import FakeLoginInterface
    from .flask_client import LoginTestClient, plugged

    fake: list[FakeLoginInterface] = []
    with contextlib.ExitStack() as stack:

        def make(app: Any, *builders: Any, **settings: Any) -> LoginTestClient:
            if not fake:
                fake.append(FakeLoginInterface(**settings) if settings
                            else request.getfixturevalue("fake_login"))
            elif settings:
                raise TypeError("settings are taken by the first login_client call of a test")
            stack.enter_context(plugged(app, fake[0], builders))
            return LoginTestClient(app, fake[0])

        yield make
