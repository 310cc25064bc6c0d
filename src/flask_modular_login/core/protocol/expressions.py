"""The JSON form of an access expression (``core.groups``), for the ``check`` RPC.

A group path is its canonical string; an operator is an array whose first item
is the operator's symbol, as in Python::

    chat / "a"                    "chat/a"
    ~x                            ["~", x]
    x | y,  x & y,  x ^ y         ["|", x, y]   ["&", x, y]   ["^", x, y]
    x + y + z                     ["+", x, y, z]       (one or more operands)

so ``~(chat / "a" / "blocked") & (chat / "a" / "u1")`` is
``["&", ["~", "chat/a/blocked"], "chat/a/u1"]``. The form mirrors the
expression's structure exactly: :func:`expression_from_json` of
:func:`expression_to_json` of ``e`` equals ``e``. Limits: at most
:data:`MAX_EXPRESSION_DEPTH` nested operators and :data:`MAX_EXPRESSION_PATHS`
paths, each path at most :data:`MAX_PATH_CHARS` characters.
"""

from __future__ import annotations

from ..groups import And, Expression, GroupPath, Info, Not, Or, Xor
from .errors import BadField

__all__ = ["expression_to_json", "expression_from_json", "path_from_json",
           "MAX_EXPRESSION_DEPTH", "MAX_EXPRESSION_PATHS", "MAX_PATH_CHARS"]

MAX_EXPRESSION_DEPTH = 32
MAX_EXPRESSION_PATHS = 256
MAX_PATH_CHARS = 1024

_BINARY: dict[str, type[And] | type[Or] | type[Xor]] = {"&": And, "|": Or, "^": Xor}

JSONExpression = str | list["JSONExpression"]


def expression_to_json(expr: Expression) -> JSONExpression:
    """The JSON form of ``expr`` (see the module docstring); TypeError for a foreign class."""
    if isinstance(expr, GroupPath):
        return str(expr)
    if isinstance(expr, Not):
        return ["~", expression_to_json(expr.operand)]
    if isinstance(expr, Info):
        return ["+", *(expression_to_json(operand) for operand in expr.operands)]
    if isinstance(expr, (And, Or, Xor)):
        return [expr.symbol, expression_to_json(expr.left), expression_to_json(expr.right)]
    raise TypeError(f"{type(expr).__name__} has no JSON form")


def expression_from_json(value: object, name: str = "expr") -> Expression:
    """The expression whose JSON form is ``value``; raises BadField naming ``name``."""
    budget = [MAX_EXPRESSION_PATHS]
    return _read(value, name, 0, budget)


def path_from_json(value: object, name: str) -> GroupPath:
    """A group path from its canonical string; raises BadField naming ``name``."""
    if not isinstance(value, str):
        raise BadField(f"{name} must be a group path string")
    if not 0 < len(value) <= MAX_PATH_CHARS:
        raise BadField(f"{name} must have 1 to {MAX_PATH_CHARS} characters")
    try:
        return GroupPath.parse(value)
    except (TypeError, ValueError):
        raise BadField(f"{name} is not a group path (empty segment or control character)") from None


def _read(value: object, name: str, depth: int, budget: list[int]) -> Expression:
    if isinstance(value, str):
        budget[0] -= 1
        if budget[0] < 0:
            raise BadField(f"{name} names more than {MAX_EXPRESSION_PATHS} paths")
        return path_from_json(value, name)
    if not isinstance(value, list) or not value or not isinstance(value[0], str):
        raise BadField(f"{name}: an expression is a path string or [operator, operands...]")
    if depth >= MAX_EXPRESSION_DEPTH:
        raise BadField(f"{name} nests more than {MAX_EXPRESSION_DEPTH} operators")
    symbol, operands = value[0], [_read(v, name, depth + 1, budget) for v in value[1:]]
    return _operator(symbol, operands, name)


def _operator(symbol: str, operands: list[Expression], name: str) -> Expression:
    if symbol == "~" and len(operands) == 1:
        return Not(operands[0])
    if symbol in _BINARY and len(operands) == 2:
        return _BINARY[symbol](operands[0], operands[1])
    if symbol == "+" and operands:
        return Info(tuple(operands))
    if symbol in ("~", "+", *_BINARY):
        raise BadField(f"{name}: {symbol!r} takes {_ARITY[symbol]}, not {len(operands)}")
    raise BadField(f"{name}: unknown operator {symbol[:10]!r} (one of ~ & | ^ +)")


_ARITY = {"~": "1 operand", "&": "2 operands", "|": "2 operands", "^": "2 operands",
          "+": "1 or more operands"}
