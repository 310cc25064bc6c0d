"""A logged-in Flask test client for apps guarded by ``login_required``/``login_optional``.

::

    fake = FakeLoginInterface()
    with plugged(app, fake):                     # every builder of the app checks with the fake
        client = LoginTestClient(app, fake)
        client.login("u1", name="Ann", groups=["chat/room"])
        assert client.get("/chats/room").status_code == 200

:func:`plugged` finds the builders that guard the app's views and blueprints (and the
default one of ``flask_modular_login``) and gives them the fake for the duration;
builders it cannot see (none of the app's views uses them yet) are passed by hand.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator
from typing import Any

import flask
from flask.testing import FlaskClient

from ..client.decorators import BUILDER_MARK, LoginBuilder, LoginDecorator
from .fake import FakeLoginInterface, GroupLike

__all__ = ["LoginTestClient", "plugged", "builders_of"]

_DECLARED = "flask_modular_login.declared"  # client.declared's per-app record


def builders_of(app: flask.Flask) -> list[LoginBuilder]:
    """The builders guarding ``app``'s views and blueprints, and the package's default one."""
    import flask_modular_login

    found: dict[int, LoginBuilder] = {}
    default = flask_modular_login._default_builder
    found[id(default)] = default
    for view in app.view_functions.values():
        builder = getattr(view, BUILDER_MARK, None)
        if isinstance(builder, LoginBuilder):
            found.setdefault(id(builder), builder)
    for guards in app.before_request_funcs.values():
        for guard in guards:
            owner = getattr(guard.func, "__self__", None) if isinstance(
                guard, functools.partial) else None
            if isinstance(owner, LoginDecorator):
                found.setdefault(id(owner.builder), owner.builder)
    return list(found.values())


@contextlib.contextmanager
def plugged(app: flask.Flask, fake: FakeLoginInterface,
            builders: Iterable[LoginBuilder | LoginDecorator] = ()) -> Iterator[list[LoginBuilder]]:
    """Check ``app``'s requests with ``fake`` inside the block: every builder of
    :func:`builders_of` and ``builders`` (or their decorators) uses it, and gets its
    interface back afterwards."""
    chosen = {id(b): b for b in builders_of(app)}
    for given in builders:
        builder = given.builder if isinstance(given, LoginDecorator) else given
        chosen.setdefault(id(builder), builder)
    had_declared = _DECLARED in app.extensions
    previous = [(builder, builder.use(fake)) for builder in chosen.values()]
    try:
        yield list(chosen.values())
    finally:
        for builder, interface in reversed(previous):
            builder.use(interface)
        if not had_declared:  # the namespaces were "made" in the fake only
            app.extensions.pop(_DECLARED, None)


class LoginTestClient(FlaskClient):
    """``app.test_client()`` with :meth:`login`, :meth:`logout` and :meth:`expire`.

    The cookie is the real ``login`` cookie, a lease signed by ``fake``; the app must
    check with ``fake`` (:func:`plugged`, or the ``login_client`` pytest fixture).
    """

    fake: FakeLoginInterface
    session_id: str | None
    user_id: str | None

    def __init__(self, app: flask.Flask, fake: FakeLoginInterface | None = None,
                 *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("use_cookies", True)
        super().__init__(app, app.response_class, *args, **kwargs)
        self.fake = fake if fake is not None else FakeLoginInterface()
        self.session_id = None
        self.user_id = None

    @property
    def cookie_name(self) -> str:
        return self.fake.settings.cookie_name

    @property
    def token(self) -> str | None:
        """The ``login`` cookie the client holds now (renewed leases included), or None."""
        cookie = self.get_cookie(self.cookie_name)
        return cookie.value if cookie is not None else None

    def login(self, user_id: str = "user", name: str | None = None,
              picture: str | None = None, groups: Iterable[GroupLike] = ()) -> str:
        """Log in as ``user_id`` (``name`` defaults to it) with a new session, and make
        them a member of ``groups`` (``"chat/room"`` or ``chat / "room"``; access flows
        down the tree). Returns the cookie's value."""
        issued = self.fake.login(user_id, name, picture, groups)
        self.session_id, self.user_id = issued.lease.session_id, user_id
        self._set(issued.token)
        return issued.token

    def logout(self) -> None:
        """End the session, as the service's logout does: the cookie is dropped, and a
        copy of it is refused from now on."""
        if self.session_id is not None:
            self.fake.end_session(self.session_id)
        self.session_id = None
        self.delete_cookie(self.cookie_name)

    def expire(self) -> str:
        """Replace the cookie by a lease of the same session that ran out: the next
        request renews it (the response sets a new cookie). Returns the expired token."""
        if self.session_id is None:
            raise RuntimeError("log in first")
        token = self.fake.expired(self.session_id).token
        self._set(token)
        return token

    def end_session(self) -> None:
        """Make the session run out (not revoked): after :meth:`expire` its renewal is
        refused, as the service refuses to renew a session past its end."""
        if self.session_id is None:
            raise RuntimeError("log in first")
        self.fake.end_session_soon(self.session_id)

    def grant(self, *groups: GroupLike) -> None:
        """Give the logged-in user these memberships (counted on the next request)."""
        self.fake.grant(self._user(), *groups)

    def revoke(self, *groups: GroupLike) -> None:
        """End memberships :meth:`grant` or :meth:`login` gave."""
        self.fake.revoke(self._user(), *groups)

    def _user(self) -> str:
        if self.user_id is None:
            raise RuntimeError("log in first")
        return self.user_id

    def _set(self, token: str) -> None:
        self.set_cookie(self.cookie_name, token, path="/")
