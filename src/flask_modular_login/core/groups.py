"""Group paths and the access expression algebra. Pure: no Flask, no database, no clock.

Access groups form disjoint trees, and access flows *down* a tree: a member of
``chat`` may enter ``chat/x/y``. A :class:`GroupPath` names one node; paths
combine into expressions::

    chat / "x"      the subgroup path chat/x (a leaf: "member of chat/x or of an ancestor");
                    also chat.group("x")
    a | b           either
    a & b           both
    a ^ b           exactly one
    ~a              not a (no membership in a nor in any ancestor of a)
    a + b           either, *and* report for every path named in a and b which
                    membership granted it (``Evaluation.via``)

Python's precedence applies: ``~`` binds tighter than ``/``, so write
``~(chat / "x")``; ``+`` binds tighter than ``&``, ``^`` and ``|``.

A route may also name a callable ``lambda <route kwargs>, user: expression``;
:func:`resolve` turns it into an expression for one request.

Contract:

* :func:`evaluate` (also ``expr.evaluate``) asks a :class:`MembershipOracle`
  **once**, with every leaf path of the expression, then decides the boolean tree
  without further I/O. It returns an :class:`Evaluation`.
* It fails closed. Any exception from the oracle propagates unchanged, and an
  answer that is incomplete or names a granting group that is not an ancestor
  of the asked path raises :class:`MembershipLookupError`. **The caller must
  treat every exception from** :func:`evaluate` **and** :func:`resolve` **as
  "not allowed"** (403), never as allowed.
* ``str(path)`` is the canonical key of a group (``"root/seg/seg"``): segments
  can never contain ``"/"``, so no escaping is needed and
  ``GroupPath.parse(str(p)) == p``. A segment given as an int, a finite float or a
  UUID (what Flask's ``<int:x>``, ``<float:x>``, ``<uuid:x>`` give a view) is its
  ``str``: ``chat / 5 == chat / "5"``; any other non-str is a TypeError.
* :class:`InMemoryMemberships` is the in-memory double of the oracle, for tests
  and examples.
"""

from __future__ import annotations

import inspect
import math
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .errors import LoginError

__all__ = [
    "GroupPath",
    "Expression",
    "Not",
    "And",
    "Or",
    "Xor",
    "Info",
    "ExpressionSpec",
    "Evaluation",
    "Held",
    "MembershipOracle",
    "MembershipLookupError",
    "InMemoryMemberships",
    "evaluate",
    "resolve",
]

SEPARATOR = "/"
_FORBIDDEN = re.compile(r"[/\x00-\x1f\x7f]")

Found = Mapping["GroupPath", "GroupPath | None"]


class MembershipLookupError(LoginError, LookupError):
    """The oracle's answer cannot be trusted (missing path, or a non-ancestor as granter)."""

    code = "membership_lookup"


class Expression:
    """Base of every access expression; combine with ``| & ^ ~ +``."""

    def __or__(self, other: object) -> Expression:
        return Or(self, other) if isinstance(other, Expression) else NotImplemented

    def __and__(self, other: object) -> Expression:
        return And(self, other) if isinstance(other, Expression) else NotImplemented

    def __xor__(self, other: object) -> Expression:
        return Xor(self, other) if isinstance(other, Expression) else NotImplemented

    def __invert__(self) -> Expression:
        return Not(self)

    def __add__(self, other: object) -> Expression:
        if not isinstance(other, Expression):
            return NotImplemented
        return Info(_info_operands(self) + _info_operands(other))

    def walk(self) -> Iterator[GroupPath]:
        """Every leaf path, in order of appearance, with repeats."""
        raise NotImplementedError

    def decide(self, found: Found) -> bool:
        """The truth of this expression, given ``found[leaf]`` for every leaf path."""
        raise NotImplementedError

    def requested(self) -> Iterator[GroupPath]:
        """Leaf paths named under a ``+``: the ones :attr:`Evaluation.via` reports."""
        raise NotImplementedError

    def leaves(self) -> tuple[GroupPath, ...]:
        """Distinct leaf paths in order of appearance: what the oracle is asked."""
        return tuple(dict.fromkeys(self.walk()))

    def evaluate(self, user_id: str, oracle: MembershipOracle) -> Evaluation:
        """Shorthand for :func:`evaluate` ``(self, user_id, oracle)``."""
        return evaluate(self, user_id, oracle)


def _info_operands(expr: Expression) -> tuple[Expression, ...]:
    return expr.operands if isinstance(expr, Info) else (expr,)


def _segment(value: object) -> str:
    """A segment below the root: a str, or what Flask's converters give a view (``<int:x>``,
    ``<float:x>``, ``<uuid:x>``) as its ``str``. Anything else (None, a bool, bytes, another
    path, ...) is a TypeError rather than a name nobody meant."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise TypeError(f"group path segment {value!r} is not a finite number")
        return _check_name(str(value))
    if isinstance(value, uuid.UUID):
        return str(value)
    return _check_name(value)


def _check_name(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("group path segments must be str, int, float or uuid.UUID, "
                        f"not {type(value).__name__}")
    if not value:
        raise ValueError("group path segments must not be empty")
    if _FORBIDDEN.search(value):
        raise ValueError(f"group path segment {value!r} contains '/' or a control character")
    return value


@dataclass(frozen=True, eq=False)
class GroupPath(Expression):
    """One node of a group tree: a root name and the segments below it. Immutable, hashable.

    Equality and hash depend only on the parts, so instances of subclasses
    compare equal to plain paths with the same parts.
    """

    root: str
    segments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_name(self.root)
        if isinstance(self.segments, str) or not isinstance(self.segments, (tuple, list)):
            raise TypeError("segments must be a tuple of str")
        object.__setattr__(self, "segments", tuple(_segment(s) for s in self.segments))
        parts = (self.root, *self.segments)  # kept: checks hash and compare paths a lot
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_hash", hash(parts))

    @classmethod
    def parse(cls, text: str) -> GroupPath:
        """The path whose ``str`` is ``text``; raises ValueError/TypeError on bad input."""
        if not isinstance(text, str):
            raise TypeError(f"group path must be str, not {type(text).__name__}")
        root, *segments = text.split(SEPARATOR)
        return GroupPath(root, tuple(segments))

    @property
    def parts(self) -> tuple[str, ...]:
        return self._parts  # type: ignore[attr-defined, no-any-return]

    @property
    def parent(self) -> GroupPath | None:
        return GroupPath(self.root, self.segments[:-1]) if self.segments else None

    def __truediv__(self, segment: object) -> GroupPath:
        return GroupPath(self.root, (*self.segments, _segment(segment)))

    def group(self, name: object) -> GroupPath:
        """The subgroup ``name``, the same as ``self / name``: ``chat.group("a").group("b")``."""
        return self / name

    def ancestors(self) -> tuple[GroupPath, ...]:
        """Root first, ``self`` last: every group whose members may enter this one."""
        return tuple(GroupPath(self.root, self.segments[:n]) for n in range(len(self.parts)))

    def contains(self, other: GroupPath) -> bool:
        """Whether ``other`` is this group or lies below it."""
        return other.parts[: len(self.parts)] == self.parts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GroupPath) and other._parts == self._parts  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined, no-any-return]

    def __str__(self) -> str:
        return SEPARATOR.join(self.parts)

    def __repr__(self) -> str:
        return f"GroupPath.parse({str(self)!r})"

    def walk(self) -> Iterator[GroupPath]:
        yield self

    def leaves(self) -> tuple[GroupPath, ...]:
        return (self,)

    def decide(self, found: Found) -> bool:
        return found[self] is not None

    def requested(self) -> Iterator[GroupPath]:
        return iter(())


@dataclass(frozen=True)
class Not(Expression):
    operand: Expression

    def walk(self) -> Iterator[GroupPath]:
        return self.operand.walk()

    def decide(self, found: Found) -> bool:
        return not self.operand.decide(found)

    def requested(self) -> Iterator[GroupPath]:
        return self.operand.requested()

    def __str__(self) -> str:
        return f"~{self.operand}"


@dataclass(frozen=True)
class _Binary(Expression):
    left: Expression
    right: Expression
    symbol = "?"

    def walk(self) -> Iterator[GroupPath]:
        yield from self.left.walk()
        yield from self.right.walk()

    def requested(self) -> Iterator[GroupPath]:
        yield from self.left.requested()
        yield from self.right.requested()

    def __str__(self) -> str:
        return f"({self.left} {self.symbol} {self.right})"


@dataclass(frozen=True)
class And(_Binary):
    symbol = "&"

    def decide(self, found: Found) -> bool:
        return self.left.decide(found) and self.right.decide(found)


@dataclass(frozen=True)
class Or(_Binary):
    symbol = "|"

    def decide(self, found: Found) -> bool:
        return self.left.decide(found) or self.right.decide(found)


@dataclass(frozen=True)
class Xor(_Binary):
    symbol = "^"

    def decide(self, found: Found) -> bool:
        return self.left.decide(found) != self.right.decide(found)


@dataclass(frozen=True)
class Info(Expression):
    """``a + b + ...``: allowed if any operand is; every path inside is reported in ``via``."""

    operands: tuple[Expression, ...]

    def walk(self) -> Iterator[GroupPath]:
        for operand in self.operands:
            yield from operand.walk()

    def decide(self, found: Found) -> bool:
        return any(operand.decide(found) for operand in self.operands)

    def requested(self) -> Iterator[GroupPath]:
        return self.walk()

    def __str__(self) -> str:
        return "(" + " + ".join(str(operand) for operand in self.operands) + ")"


@dataclass(frozen=True)
class Held:
    """Access to ``group`` and everything below it, until ``until`` (None: no end)."""

    group: GroupPath
    until: float | None


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one check.

    ``via`` maps ``str(path)`` of every path named under a ``+`` to ``str`` of
    the membership that grants it (the path itself or its nearest ancestor the
    user belongs to), or None when the user has no access to it.
    """

    allowed: bool
    via: dict[str, str | None] = field(default_factory=dict)


class MembershipOracle(Protocol):
    """Where memberships come from (the store, a cache, an RPC, or the in-memory double)."""

    def memberships(
        self, user_id: str, paths: Sequence[GroupPath]
    ) -> Mapping[GroupPath, GroupPath | None]:
        """For each of ``paths``: the nearest of its :meth:`GroupPath.ancestors` (itself
        included) that ``user_id`` holds unexpired access to, or None. Must answer every path.
        """
        ...


def evaluate(expr: Expression, user_id: str, oracle: MembershipOracle) -> Evaluation:
    """Decide ``expr`` for ``user_id`` with one oracle call. Exceptions mean "not allowed"."""
    paths = expr.leaves()
    found = _checked(oracle.memberships(user_id, paths), paths)
    via = {str(path): _text(found[path]) for path in expr.requested()}
    return Evaluation(allowed=expr.decide(found) is True, via=via)


def _checked(answer: Mapping[GroupPath, GroupPath | None], paths: Sequence[GroupPath]) -> Found:
    found: dict[GroupPath, GroupPath | None] = {}
    for path in paths:
        if path not in answer:
            raise MembershipLookupError(f"oracle did not answer for {path}")
        granter = answer[path]
        if granter is not None and not (isinstance(granter, GroupPath) and granter.contains(path)):
            raise MembershipLookupError(f"oracle named {granter!r} as granting {path}")
        found[path] = granter
    return found


def _text(path: GroupPath | None) -> str | None:
    return None if path is None else str(path)


ExpressionSpec = Expression | Callable[..., Expression]


def resolve(spec: ExpressionSpec, kwargs: Mapping[str, object]) -> Expression:
    """The expression for one request.

    ``kwargs`` are the route's keyword arguments plus ``user`` (the caller adds
    it; the Flask decorators also under their ``kw`` name). An expression is
    returned as is; a callable is called with the entries of ``kwargs`` its
    signature names (all of them if it takes ``**kwargs``) and must return an
    expression. Raises TypeError otherwise; any exception raised
    by the callable propagates. The caller must treat every exception as "not allowed".
    """
    if isinstance(spec, Expression):
        return spec
    if not callable(spec):
        raise TypeError(f"group must be an expression or a callable, not {type(spec).__name__}")
    result = spec(**_accepted(spec, kwargs))
    if not isinstance(result, Expression):
        raise TypeError(f"group callable returned {type(result).__name__}, not an expression")
    return result


def _accepted(fn: Callable[..., object], kwargs: Mapping[str, object]) -> dict[str, object]:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot read the signature of group callable {fn!r}") from exc
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return dict(kwargs)
    named = {p.name for p in params if p.kind in _BY_NAME}
    return {key: value for key, value in kwargs.items() if key in named}


_BY_NAME = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class InMemoryMemberships:
    """A :class:`MembershipOracle` held in a dict; ``expires`` are seconds since the epoch.

    Access to a membership ends when ``clock() >= expires``; None never ends.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._held: dict[str, dict[GroupPath, float | None]] = {}

    def add(self, user_id: str, path: GroupPath, expires: float | None = None) -> None:
        self._held.setdefault(user_id, {})[path] = expires

    def remove(self, user_id: str, path: GroupPath) -> None:
        self._held.get(user_id, {}).pop(path, None)

    def memberships(
        self, user_id: str, paths: Sequence[GroupPath]
    ) -> dict[GroupPath, GroupPath | None]:
        now = self._clock()
        held = self._held.get(user_id, {})
        return {path: _nearest(held, path, now) for path in paths}


def _nearest(
    held: Mapping[GroupPath, float | None], path: GroupPath, now: float
) -> GroupPath | None:
    for ancestor in reversed(path.ancestors()):
        if ancestor in held and _unexpired(held[ancestor], now):
            return ancestor
    return None


def _unexpired(expires: float | None, now: float) -> bool:
    return expires is None or now < expires
