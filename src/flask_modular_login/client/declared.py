"""Namespaces a Flask client app declares, made to exist when the app serves its first request.

A route's ``group=`` names namespaces (:class:`~.namespace.AccessNamespace`): in an
expression, or through what a group callable uses (module-level or enclosing
variables, default arguments), e.g. ``chat`` in ``lambda room: chat / room``. The
decorators mark the view, or a blueprint's guard, with them (:func:`mark`). The
first request the app serves, whatever its route (an unguarded one too), finds the
marked views and guards of that app and makes their namespaces exist with their
owners (``access.ensure_namespaces``; once per process), so that an owner can invite
people before anyone has requested a guarded route.

Nothing here ever breaks a request: a failure (the database or the channel
unreachable) is logged on ``flask_modular_login.access`` and tried again on a later
request of the app, no sooner than :data:`RETRY_SECONDS` after (a remote app's first
request usually finds its channel still connecting); meanwhile the first check that
names a namespace still makes it exist, as before.

A namespace built inside a group callable from request data (``AccessNamespace(name,
...)`` with ``name`` from the URL) is not known before a request and exists from the
first check that names it.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import flask

from ..config import RunDirNotFound
from ..core.groups import Expression
from .namespace import OwnedPath

logger = logging.getLogger("flask_modular_login.access")

MARK = "_flask_modular_login_namespaces"
"""The attribute that carries a view's (or a blueprint guard's) :class:`Declared`."""
RETRY_SECONDS = 5.0
"""After a failure, how long an app waits before trying again."""
_EXTENSION = "flask_modular_login.declared"

_lock = threading.Lock()
_listening = False


@dataclass(frozen=True)
class Declared:
    """The namespaces one view or guard names, and the builder whose store they belong in."""

    builder: Any  # a LoginBuilder (local or remote)
    namespaces: tuple[OwnedPath, ...]


@dataclass
class _Todo:
    builder: Any
    namespaces: dict[tuple[str, ...], OwnedPath]
    retry_at: float = float("-inf")
    done: bool = False
    failed: bool = False


def mark(target: Any, builder: Any, spec: object) -> None:
    """Remember on ``target`` the namespaces ``spec`` (a ``group=``) names, and make sure the
    first request of every app is heard. Does nothing if it names none."""
    namespaces = namespaces_of(spec)
    if namespaces:
        setattr(target, MARK, Declared(builder, namespaces))
        _listen()


def namespaces_of(spec: object) -> tuple[OwnedPath, ...]:
    """The roots, with their owners, of the namespaces ``spec`` names (see the module)."""
    found: dict[tuple[str, ...], OwnedPath] = {}
    for value in _named_by(spec):
        if isinstance(value, Expression):
            for path in value.walk():
                owner = getattr(path, "owner", None)
                if owner is not None:
                    found.setdefault((path.root, *owner), OwnedPath(path.root, (), owner))
    return tuple(found.values())


def _named_by(spec: object) -> Iterator[object]:
    """``spec`` itself, or the values a callable ``spec`` can reach by name."""
    if isinstance(spec, Expression):
        yield spec
        return
    if isinstance(spec, functools.partial):
        yield from _named_by(spec.func)
        yield from spec.args
        yield from spec.keywords.values()
        return
    if not callable(spec):
        return
    function = getattr(inspect.unwrap(spec), "__func__", spec)  # a bound method: its function
    code = getattr(function, "__code__", None)
    if code is None:
        return
    yield from getattr(function, "__defaults__", None) or ()
    yield from (getattr(function, "__kwdefaults__", None) or {}).values()
    for cell in getattr(function, "__closure__", None) or ():
        try:
            yield cell.cell_contents
        except ValueError:  # a variable not yet assigned
            continue
    names = _names(code)
    scope = getattr(function, "__globals__", {})
    for name in names:
        if name in scope:
            value = scope[name]
            yield value
            if isinstance(value, types.ModuleType):  # groups.CHAT: one level into modules
                yield from (vars(value)[other] for other in names if other in vars(value))


def _names(code: types.CodeType) -> set[str]:
    """Global and attribute names ``code`` uses, nested functions and comprehensions included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _listen() -> None:
    global _listening
    if not _listening:
        with _lock:
            if not _listening:
                flask.request_started.connect(_on_request_started)
                _listening = True


def _on_request_started(app: flask.Flask, **_extra: Any) -> None:
    """Every request of every app: one dict look-up once the app's namespaces exist."""
    if app.extensions.get(_EXTENSION) is True:
        return
    try:
        _ensure_declared(app)
    except Exception as error:  # never break the request
        logger.warning("declared namespaces of %s not written: %s: %s",
                       app.name, type(error).__name__, error)


def _ensure_declared(app: flask.Flask) -> None:
    with _lock:
        todo = app.extensions.get(_EXTENSION)
        if todo is None:
            todo = app.extensions[_EXTENSION] = _collect(app)
        if todo is True:
            return
        due = [item for item in todo if not item.done and item.retry_at <= _now(item.builder)]
        for item in due:
            item.retry_at = float("inf")  # in progress: other requests go on meanwhile
    for item in due:
        names = ", ".join(sorted(path.root for path in item.namespaces.values()))
        try:
            item.builder.access.ensure_namespaces(item.namespaces.values())
            item.done = True
        except Exception as error:  # logged, tried again later, never breaks the request
            item.retry_at = _now(item.builder) + RETRY_SECONDS
            quiet = item.failed or isinstance(error, RunDirNotFound)  # that one is logged once
            logger.log(logging.DEBUG if quiet else logging.WARNING,
                       "declared namespaces %s not written yet, retrying every %g s: %s: %s",
                       names, RETRY_SECONDS, type(error).__name__, error)
            item.failed = True
        else:
            if item.failed:
                logger.info("declared namespaces %s written", names)
    with _lock:
        if all(item.done for item in todo):
            app.extensions[_EXTENSION] = True


def _collect(app: flask.Flask) -> list[_Todo] | Literal[True]:
    """The namespaces the app's views and blueprint guards declare, per builder."""
    marked = [*app.view_functions.values(),
              *(guard for guards in app.before_request_funcs.values() for guard in guards)]
    todo: dict[int, _Todo] = {}
    for target in marked:
        declared = getattr(target, MARK, None)
        if isinstance(declared, Declared):
            item = todo.setdefault(id(declared.builder), _Todo(declared.builder, {}))
            for path in declared.namespaces:
                item.namespaces.setdefault((path.root, *(path.owner or ())), path)
    return list(todo.values()) or True


def _now(builder: Any) -> float:
    """The builder's clock (its interface's), or the wall clock if it has none yet."""
    try:
        return float(builder.interface.clock())
    except Exception:  # the interface cannot be built: try again later
        return time.time()
