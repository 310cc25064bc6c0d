"""Admitting a logged-in user to a route that names groups (the decorators' ``group=``).

:func:`admit` resolves the route's expression (a callable receives the route's
arguments and ``user``, also under the decorator's ``kw`` name), evaluates it
through the interface's ``access`` and returns the user dict the view gets, or
None when the user may not enter. It fails closed: any exception on the way is
logged (its type and message, never the cookie) and means None.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from ..core.groups import Evaluation, Expression, ExpressionSpec, resolve

logger = logging.getLogger("flask_modular_login.access")


class AccessChecker(Protocol):
    def evaluate(self, expr: Expression, user_id: str) -> Evaluation: ...


class HasAccess(Protocol):
    """A login interface (local now, remote later) with access checks."""

    @property
    def access(self) -> AccessChecker: ...


def admit(interface: HasAccess, spec: ExpressionSpec, route_args: Mapping[str, Any],
          user: dict[str, Any], where: str = "", kw: str | None = None) -> dict[str, Any] | None:
    """The user dict for the view (with ``via`` when the expression uses ``+``), or None.

    ``route_args`` are the view's keyword arguments; ``user`` is added for a
    callable ``spec``, under the name ``user`` and under ``kw`` (the view's keyword
    for the user), either of which overrides a route argument of that name.
    ``where`` names the route in the log.
    """
    try:
        expr = resolve(spec, {**route_args, "user": user, **({kw: user} if kw else {})})
        outcome = interface.access.evaluate(expr, user["id"])
    except Exception as error:  # fail closed, whatever went wrong
        logger.warning("access check for %s failed closed: %s: %s",
                       where or "a route", type(error).__name__, error)
        return None
    if outcome.allowed is not True:
        return None
    return {**user, "via": dict(outcome.via)} if outcome.via else user
