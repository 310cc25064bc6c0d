"""Flask decorators: ``login_required`` and ``login_optional``, built by :class:`LoginBuilder`.

::

    login_config = LoginBuilder(prefix="//localhost:8000")
    login_required, login_optional = login_config.decorators

    @app.route("/user_info/<kind>")
    @login_required(kw="user")
    def info(kind, user): ...

    @app.route("/hidden")
    @login_required              # the user is in flask.g.user
    def hidden(): ...

    login_required(blueprint)    # every route of the blueprint

    @app.route("/chats/<room>")
    @login_required(kw="user", group=lambda room, user: chat / room)
    def room(room, user): ...    # user["via"] when the expression uses ``+``

Both decorators of one builder share its configuration (``prefix`` included).
Every answer of a guarded route depends on the cookie, so it is marked
``Vary: Cookie`` and ``Cache-Control: private`` (unless the view set its own
Cache-Control; see :func:`private`).

``group=`` takes an access expression or a callable of the route's arguments and
``user`` (also given under the ``kw`` name: ``kw="viewer", group=lambda viewer: ...``)
returning one (:mod:`flask_modular_login.core.groups`). With
``login_required`` a logged-out user is bounced to login first; a logged-in one
who fails the expression gets 403 (a JSON request: 401 ``{"error":
"access_denied"}``). ``login_optional`` never refuses: the view gets ``user=None``
unless the user is logged in *and* passes (logged out: the expression is not
evaluated). Any error while deciding means "not allowed" (see :mod:`.admission`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, overload
from urllib.parse import urlencode

import flask
from werkzeug.wrappers import Response

from ..core.groups import ExpressionSpec
from ..negotiation import json_error, wants_json
from ..ops.proxies import trust_request
from . import declared, forbidden
from .access import LocalAccess
from .admission import admit
from .local import Authentication, LocalLoginInterface, RunDirNotFound
from .revocations import RevocationsUnavailable

View = TypeVar("View", bound=Callable[..., Any])
_G_KEY = "_flask_modular_login_auth"
BUILDER_MARK = "_flask_modular_login_builder"
"""The attribute naming the :class:`LoginBuilder` that guards a view (copied up by
``functools.wraps``); a blueprint's guard is a partial of a :class:`LoginDecorator` method."""


class LoginBuilder:
    """Configuration shared by one pair of decorators.

    ``prefix`` is where the login service lives as seen from the browser, e.g.
    ``"//localhost:8000"`` or ``"https://example.com"`` (empty: same origin).
    Other keyword arguments are settings (see :mod:`flask_modular_login.config`),
    e.g. ``run_dir`` or ``database_url``; the login interface is built on the
    first request, so a builder may be created at import time.
    """

    def __init__(self, prefix: str = "", interface: LocalLoginInterface | None = None,
                 **settings: Any) -> None:
        self.prefix = prefix
        self._interface = interface
        self._settings = settings

    @property
    def interface(self) -> LocalLoginInterface:
        if self._interface is None:
            self._interface = LocalLoginInterface(**self._settings)
        return self._interface

    def use(self, interface: Any) -> Any:
        """Check requests with ``interface`` from now on (e.g. the in-memory fake of
        :mod:`flask_modular_login.testing`); returns the one used before (None if it was
        not built yet), to hand back to :meth:`use` afterwards."""
        previous, self._interface = self._interface, interface
        return previous

    @property
    def access(self) -> LocalAccess:
        """The interface's access groups: checks and the programmatic API."""
        return self.interface.access

    @property
    def decorators(self) -> tuple[LoginDecorator, LoginDecorator]:
        """``(login_required, login_optional)`` sharing this builder."""
        return LoginDecorator(self, required=True), LoginDecorator(self, required=False)

    def login_url(self, next_url: str | None = None) -> str:
        url_prefix = self._settings.get("url_prefix") or (
            self._interface.settings.url_prefix if self._interface else "/login")
        url = f"{self.prefix.rstrip('/')}{url_prefix}/"
        return f"{url}?{urlencode({'next': next_url})}" if next_url else url

    def authenticate(self) -> Authentication:
        """Check the current request's cookie once per request; see :func:`authenticate`."""
        return authenticate(self.interface)

    def bounce(self) -> Response:
        """The answer to a logged-out request for a protected route."""
        login = self.login_url(flask.request.url)
        if wants_json():
            return json_error(401, "login_required", "log in first", login=login)
        return flask.redirect(login)

    def deny(self, user: dict[str, Any] | None = None, group: str | None = None) -> Response:
        """The answer to a logged-in request that fails the route's group expression:
        401 JSON for API requests; else 403, rendered by the app's own 403 handler if it
        has one, or the page of :mod:`.forbidden` ("Signed in as bob — you are not in
        ``group``", switch account, enter an invite code)."""
        if wants_json():
            return json_error(401, "access_denied", "you do not have access to this page")
        if user is None or forbidden.has_own_handler():
            flask.abort(403)
        return forbidden.forbidden_page(user, group, self.login_url())


class LoginDecorator:
    """``login_required`` or ``login_optional``; usable bare, with options, or on a blueprint."""

    def __init__(self, builder: LoginBuilder, required: bool) -> None:
        self.builder = builder
        self.required = required

    @property
    def prefix(self) -> str:
        return self.builder.prefix

    @prefix.setter
    def prefix(self, value: str) -> None:
        self.builder.prefix = value

    @overload
    def __call__(self, target: View) -> View: ...
    @overload
    def __call__(self, target: flask.Blueprint, *,
                 group: ExpressionSpec | None = None) -> flask.Blueprint: ...
    @overload
    def __call__(self, target: None = None, *, kw: str | None = None,
                 group: ExpressionSpec | None = None) -> Callable[[View], View]: ...

    def __call__(self, target: Any = None, *, kw: str | None = None,
                 group: ExpressionSpec | None = None) -> Any:
        if isinstance(target, flask.Blueprint):
            guard = functools.partial(self._guard_blueprint, group)
            declared.mark(guard, self.builder, group)  # its namespaces: on the first request
            target.before_request(guard)
            return target
        if callable(target):
            return self._wrap(target, kw=None, group=group)
        if target is not None:
            raise TypeError("login decorators take a view, a blueprint, or keyword options")
        return lambda view: self._wrap(view, kw=kw, group=group)

    def _guard_blueprint(self, group: ExpressionSpec | None) -> Response | None:
        try:
            auth = self.builder.authenticate()
        except RevocationsUnavailable:
            return _unavailable()
        except RunDirNotFound as error:
            return _not_set_up(error)
        outcome = self._decide(auth, group, flask.request.view_args or {})
        return outcome if isinstance(outcome, Response) else None

    def _wrap(self, view: View, kw: str | None, group: ExpressionSpec | None) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if kw is not None and kw in kwargs and _called_directly(kw):
                return view(*args, **kwargs)  # a caller chose the user explicitly
            try:
                auth = self.builder.authenticate()
            except RevocationsUnavailable:
                return _unavailable()
            except RunDirNotFound as error:
                return _not_set_up(error)
            user = self._decide(auth, group, kwargs, kw)
            if isinstance(user, Response):
                return user
            if kw is not None:
                kwargs[kw] = user
            return view(*args, **kwargs)

        declared.mark(wrapper, self.builder, group)  # its namespaces: on the app's first request
        setattr(wrapper, BUILDER_MARK, self.builder)  # found by flask_modular_login.testing
        return wrapper  # type: ignore[return-value]

    def _decide(self, auth: Authentication, group: ExpressionSpec | None,
                route_args: dict[str, Any], kw: str | None = None,
                ) -> dict[str, Any] | Response | None:
        """The user the view gets, or the response that refuses the request. A group
        callable gets the user as ``user`` and under ``kw``."""
        if auth.user is None:
            return self.builder.bounce() if self.required else None
        if group is None:
            return auth.user
        user = admit(self.builder.interface, group, route_args, auth.user,
                     where=flask.request.endpoint or flask.request.path, kw=kw)
        if user is None and self.required:
            return self.builder.deny(auth.user, forbidden.refused_group(group, route_args,
                                                                        auth.user))
        flask.g.user = user
        return user


def _unavailable() -> Response:
    return json_error(503, "unavailable", "login checks are unavailable, retry")


NOT_SET_UP = ("login is not set up for this app: set LOGIN_RUN_DIR to the login service's "
              "run directory (the app's log says where it looked)")


def _not_set_up(error: RunDirNotFound) -> Response:
    """No run directory of the login service was found (logged once, with the places looked
    at): a 503 that names the setting but no server path, JSON for API requests, a
    plain-text page otherwise; never a 500 with a traceback."""
    if wants_json():
        return json_error(503, error.code, NOT_SET_UP)
    return Response(NOT_SET_UP + "\n", 503, mimetype="text/plain")


def _called_directly(kw: str) -> bool:
    """True when ``kw`` came from a Python caller, not from the URL (which must never set it)."""
    if not flask.has_request_context():
        return True
    if kw in (flask.request.view_args or {}):
        raise TypeError(f"the URL rule names a variable {kw!r}, the login keyword: rename one")
    return True


def authenticate(interface: LocalLoginInterface) -> Authentication:
    """Check the request's ``login`` cookie (once per request), set ``flask.g.user``, and
    arrange the response's cookie.

    A renewed lease is set on the response, a bad cookie is deleted, and the
    response, which depends on the cookie, is marked private (:func:`private`).
    This is the hot path of every protected request: it touches ``flask.g`` once
    and reads the cookie straight from the header. With ``LOGIN_TRUSTED_PROXIES``,
    the app's ``request.remote_addr`` and scheme come from the proxies' headers
    (:func:`..ops.proxies.trust_request`, from this request on).
    """
    g = flask.g._get_current_object()  # one proxy look-up instead of three
    cached = g.__dict__.get(_G_KEY)
    if cached is not None:
        return cached
    flask.after_this_request(private)
    settings = interface.settings
    if settings.trusted_proxies:  # LOGIN_TRUSTED_PROXIES: X-Forwarded-For/Proto
        trust_request(flask.current_app, flask.request, settings.trusted_proxies)
    auth = interface.authenticate(request_cookie(settings.cookie_name))
    g.__dict__[_G_KEY] = auth
    g.user = auth.user
    if auth.renewed is not None or auth.clear_cookie:
        flask.after_this_request(functools.partial(_update_cookie, interface, auth))
    return auth


def request_cookie(name: str) -> str | None:
    """The value of cookie ``name``, read from the Cookie header without parsing the others.

    Werkzeug's ``request.cookies`` parses every cookie and walks the environ; a
    lease needs one value. Quoted values fall back to Werkzeug's parser.
    """
    header = flask.request.environ.get("HTTP_COOKIE")
    if not header:
        return None
    prefix = name + "="
    for part in header.split(";"):
        part = part.strip()
        if part.startswith(prefix):
            value = part[len(prefix):]
            return flask.request.cookies.get(name) if value.startswith('"') else value
    return None


def private(response: Response) -> Response:
    """Mark an answer that depends on the login cookie: ``Vary: Cookie`` (added to the
    response's Vary) and ``Cache-Control: private`` unless the view set its own, so that
    no shared cache hands one user's answer to another.

    On the hot path: one pass over the (few) headers, since a look-up of a missing
    header costs more than that in Werkzeug.
    """
    headers = response.headers
    vary: list[str] = []
    cache_control = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == "vary":
            vary.append(value)
        elif lowered == "cache-control":
            cache_control = True
    if not vary:
        headers.add("Vary", "Cookie")
    else:
        joined = ", ".join(vary)
        if not {token.strip().lower() for token in joined.split(",")} & {"cookie", "*"}:
            headers.set("Vary", f"{joined}, Cookie")
    if not cache_control:
        headers.add("Cache-Control", "private")
    return response


def _update_cookie(interface: LocalLoginInterface, auth: Authentication,
                   response: Response) -> Response:
    if auth.renewed is not None:
        response.set_cookie(**interface.cookie(auth.renewed))
    elif auth.clear_cookie:
        response.delete_cookie(interface.settings.cookie_name, **interface.cookie_flags())
    return response
