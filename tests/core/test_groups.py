"""Group paths and the access expression algebra (core.groups)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import uuid
from collections.abc import Callable, Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_modular_login.core.groups import (
    And,
    Evaluation,
    Expression,
    GroupPath,
    Info,
    InMemoryMemberships,
    MembershipLookupError,
    Not,
    Or,
    Xor,
    evaluate,
    resolve,
)

NOW = 1_000_000.0
chat = GroupPath("chat")
A = GroupPath("a")
B = GroupPath("b")


def memberships(*paths: GroupPath, clock: Callable[[], float] = lambda: NOW):
    oracle = InMemoryMemberships(clock=clock)
    for path in paths:
        oracle.add("u", path)
    return oracle


class Spy:
    """Counts oracle calls and what each asked."""

    def __init__(self, inner: InMemoryMemberships) -> None:
        self.inner = inner
        self.calls: list[tuple[str, tuple[GroupPath, ...]]] = []

    def memberships(self, user_id: str, paths: Sequence[GroupPath]):
        self.calls.append((user_id, tuple(paths)))
        return self.inner.memberships(user_id, paths)


# -- paths ---------------------------------------------------------------------------------


def test_subgroup_paths_and_canonical_string():
    path = chat / "x" / "user-1"
    assert path == GroupPath("chat", ("x", "user-1"))
    assert str(path) == "chat/x/user-1"
    assert GroupPath.parse(str(path)) == path
    assert path.parent == chat / "x"
    assert chat.parent is None
    assert path.parts == ("chat", "x", "user-1")


@pytest.mark.parametrize("bad", ["", "a/b", "/", "x\x00", "tab\there", "del\x7f"])
def test_bad_segments_are_rejected(bad):
    with pytest.raises(ValueError):
        chat / bad
    with pytest.raises(ValueError):
        GroupPath(bad)


@pytest.mark.parametrize("bad", [None, True, b"x", ("x",), object(), chat, math.nan, math.inf])
def test_other_segments_are_a_type_error(bad):
    with pytest.raises(TypeError):
        chat / bad
    with pytest.raises(TypeError):
        GroupPath("chat", (bad,))
    with pytest.raises(TypeError):
        chat.group(bad)


@pytest.mark.parametrize("value, name", [
    (5, "5"), (0, "0"), (-3, "-3"), (1.5, "1.5"),
    (uuid.UUID("12345678-1234-5678-1234-567812345678"), "12345678-1234-5678-1234-567812345678"),
])
def test_int_float_and_uuid_segments_are_their_str(value, name):
    """What Flask's converters give a view (``<int:x>``, ``<float:x>``, ``<uuid:x>``)."""
    assert chat / value == chat / name
    assert GroupPath("chat", (value,)).segments == (name,)
    assert str(chat / "x" / value) == f"chat/x/{name}"
    assert GroupPath.parse(str(chat / value)) == chat / value


def test_a_non_str_root_is_a_type_error():
    with pytest.raises(TypeError):
        GroupPath(5)  # type: ignore[arg-type]


def test_group_names_a_subgroup_like_slash():
    assert chat.group("x") == chat / "x"
    assert chat.group("x").group("y") == chat / "x" / "y" == chat.group("x") / "y"
    assert chat.group(5) == chat / "5"
    for bad in ("", "a/b", "x\x00"):
        with pytest.raises(ValueError):
            chat.group(bad)


def test_segments_given_as_a_string_are_a_type_error():
    with pytest.raises(TypeError):
        GroupPath("chat", "xy")


@pytest.mark.parametrize("text", ["", "chat/", "/chat", "chat//x"])
def test_parse_rejects_empty_segments(text):
    with pytest.raises(ValueError):
        GroupPath.parse(text)


def test_paths_are_immutable_and_hashable():
    path = chat / "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        path.root = "other"  # type: ignore[misc]
    assert {path: 1}[GroupPath.parse("chat/x")] == 1
    assert path != chat / "y"
    assert path != "chat/x"


def test_subclass_instances_equal_plain_paths():
    @dataclasses.dataclass(frozen=True, eq=False)
    class Namespace(GroupPath):
        pass

    assert Namespace("chat") == chat
    assert hash(Namespace("chat")) == hash(chat)
    assert Namespace("chat") / "x" == chat / "x"


def test_ancestors_run_from_root_to_self():
    path = chat / "x" / "y"
    assert path.ancestors() == (chat, chat / "x", path)
    assert chat.ancestors() == (chat,)


def test_contains_is_ancestor_or_self():
    assert chat.contains(chat / "x" / "y")
    assert chat.contains(chat)
    assert not (chat / "x").contains(chat)
    assert not (chat / "x").contains(chat / "xy")
    assert not chat.contains(GroupPath("chatroom"))


# -- the algebra ---------------------------------------------------------------------------

TABLE = list(itertools.product([False, True], repeat=2))


def held(in_a: bool, in_b: bool) -> InMemoryMemberships:
    return memberships(*[p for p, isin in ((A, in_a), (B, in_b)) if isin])


@pytest.mark.parametrize(
    ("expr", "truth"),
    [
        (A | B, lambda a, b: a or b),
        (A & B, lambda a, b: a and b),
        (A ^ B, lambda a, b: a != b),
        (~A, lambda a, b: not a),
        (A + B, lambda a, b: a or b),
        (~A & B, lambda a, b: (not a) and b),
        (~(A | B), lambda a, b: not (a or b)),
        ((A ^ B) | (A & B), lambda a, b: a or b),
    ],
    ids=str,
)
@pytest.mark.parametrize(("in_a", "in_b"), TABLE)
def test_truth_tables(expr, truth, in_a, in_b):
    assert evaluate(expr, "u", held(in_a, in_b)).allowed is truth(in_a, in_b)


def test_operators_build_the_named_nodes():
    assert Or(A, B) == A | B
    assert And(A, B) == A & B
    assert Xor(A, B) == A ^ B
    assert Not(A) == ~A
    assert A + B + chat == Info((A, B, chat))
    assert A + (B + chat) == Info((A, B, chat))


@pytest.mark.parametrize("other", [1, "b", None, True])
def test_operators_reject_non_expressions(other):
    for op in (lambda: A | other, lambda: A & other, lambda: A ^ other, lambda: A + other):
        with pytest.raises(TypeError):
            op()


def test_negation_binds_tighter_than_subgroup():
    with pytest.raises(TypeError):
        ~chat / "x"  # noqa: B018
    assert ~(chat / "x") == Not(chat / "x")


def test_access_flows_down_the_tree():
    oracle = memberships(chat / "x")
    assert evaluate(chat / "x" / "y" / "z", "u", oracle).allowed
    assert evaluate(chat / "x", "u", oracle).allowed
    assert not evaluate(chat, "u", oracle).allowed
    assert not evaluate(chat / "y", "u", oracle).allowed
    assert not evaluate(chat / "xy", "u", oracle).allowed
    assert not evaluate(chat / "x", "someone-else", oracle).allowed


def test_negation_sees_ancestor_membership():
    oracle = memberships(chat)
    assert not evaluate(~(chat / "x" / "blocked"), "u", oracle).allowed


def test_expired_membership_grants_nothing():
    oracle = InMemoryMemberships(clock=lambda: NOW)
    oracle.add("u", chat, expires=NOW)
    oracle.add("u", chat / "x", expires=NOW + 1)
    assert not evaluate(chat / "y", "u", oracle).allowed
    assert evaluate(chat / "x", "u", oracle).allowed


def test_removed_membership_grants_nothing():
    oracle = memberships(chat)
    oracle.remove("u", chat)
    oracle.remove("nobody", chat)
    assert not evaluate(chat, "u", oracle).allowed


def test_issue_example_blocked_chat_image():
    def rule(DMing, img, user):
        return ~(chat / DMing / "blocked") & (chat / DMing / user["id"] / img / "read_access")

    user = {"id": "u"}
    oracle = memberships(chat / "bob" / "u")
    expr = resolve(rule, {"DMing": "bob", "img": "cat.png", "user": user})
    assert evaluate(expr, "u", oracle).allowed
    oracle.add("u", chat / "bob" / "blocked")
    assert not evaluate(expr, "u", oracle).allowed


# -- + and via -----------------------------------------------------------------------------


def test_plus_reports_which_membership_granted_each_path():
    oracle = memberships(chat, B / "x")
    result = evaluate((chat / "room") + B + (B / "x" / "y"), "u", oracle)
    assert result == Evaluation(allowed=True, via={"chat/room": "chat", "b": None, "b/x/y": "b/x"})


def test_via_names_the_nearest_membership():
    oracle = memberships(chat, chat / "x")
    assert evaluate(chat / "x" / "y" + A, "u", oracle).via["chat/x/y"] == "chat/x"


def test_plus_denies_when_no_operand_allows():
    result = evaluate(A + B, "u", memberships(chat))
    assert result == Evaluation(allowed=False, via={"a": None, "b": None})


def test_via_reports_only_paths_under_plus():
    result = evaluate(chat & (A + B), "u", memberships(chat, A))
    assert result.allowed
    assert result.via == {"a": "a", "b": None}
    assert evaluate(chat | A, "u", memberships(chat)).via == {}


def test_via_is_reported_even_when_and_short_circuits():
    result = evaluate(B & (A + chat), "u", memberships(A))
    assert not result.allowed
    assert result.via == {"a": "a", "chat": None}


# -- batching and failing closed -----------------------------------------------------------


def test_oracle_is_asked_once_with_every_distinct_leaf():
    spy = Spy(memberships(A))
    expr = (A & ~B) | (chat / "x" + A) ^ ~(B | chat / "x")
    evaluate(expr, "u", spy)
    assert spy.calls == [("u", (A, B, chat / "x"))]


class Broken:
    def memberships(self, user_id, paths):
        raise ConnectionError("store down")


@pytest.mark.parametrize("expr", [A, ~A, A | ~A, ~A + B], ids=str)
def test_oracle_errors_propagate_never_allow(expr):
    with pytest.raises(ConnectionError):
        evaluate(expr, "u", Broken())


class Answers:
    def __init__(self, answer: Mapping[GroupPath, object]) -> None:
        self.answer = answer

    def memberships(self, user_id, paths):
        return self.answer


def test_incomplete_answer_is_an_error_not_a_non_membership():
    with pytest.raises(MembershipLookupError):
        evaluate(~(chat / "x"), "u", Answers({}))


@pytest.mark.parametrize("granter", [chat / "y", GroupPath("other"), "chat", chat / "x" / "z"])
def test_granter_must_be_an_ancestor_of_the_asked_path(granter):
    with pytest.raises(MembershipLookupError):
        evaluate(chat / "x", "u", Answers({chat / "x": granter}))


def test_method_form_matches_function():
    oracle = memberships(A)
    assert (A + B).evaluate("u", oracle) == evaluate(A + B, "u", oracle)


# -- callables -----------------------------------------------------------------------------


def test_resolve_returns_expressions_unchanged():
    assert resolve(A, {"user": {}}) is A


def test_resolve_passes_only_the_parameters_named():
    seen = {}

    def rule(room, user):
        seen.update(room=room, user=user)
        return chat / room

    assert resolve(rule, {"room": "x", "img": "y", "user": {"id": "u"}}) == chat / "x"
    assert seen == {"room": "x", "user": {"id": "u"}}


def test_resolve_passes_everything_to_var_keyword():
    got = {}

    def rule(**kwargs):
        got.update(kwargs)
        return A

    resolve(rule, {"room": "x", "user": 1})
    assert got == {"room": "x", "user": 1}


def test_resolve_supports_keyword_only_and_no_parameters():
    assert resolve(lambda *, user: chat / user, {"user": "u", "x": 1}) == chat / "u"
    assert resolve(lambda: B, {"user": "u"}) == B


def test_resolve_missing_parameter_is_a_type_error():
    with pytest.raises(TypeError):
        resolve(lambda room, user: chat / room, {"user": "u"})


@pytest.mark.parametrize("value", [None, True, "chat", 1])
def test_resolve_requires_an_expression_back(value):
    with pytest.raises(TypeError):
        resolve(lambda user: value, {"user": "u"})


@pytest.mark.parametrize("spec", [None, "chat", 3])
def test_resolve_rejects_non_callables(spec):
    with pytest.raises(TypeError):
        resolve(spec, {})


def test_resolve_lets_callable_errors_propagate():
    def rule(user):
        raise KeyError("id")

    with pytest.raises(KeyError):
        resolve(rule, {"user": {}})


# -- property: evaluation equals the boolean reading of the tree --------------------------

PATHS = [chat, chat / "x", chat / "x" / "y", A, A / "z"]


def reference_member(path: GroupPath, held_paths: frozenset[GroupPath]) -> bool:
    """Independent of the module: any prefix of the parts is held."""
    return any(path.parts[: len(h.parts)] == h.parts for h in held_paths)


Pair = tuple[Expression, Callable[[frozenset[GroupPath]], bool]]


def leaf() -> st.SearchStrategy[Pair]:
    return st.sampled_from(PATHS).map(lambda p: (p, lambda h, p=p: reference_member(p, h)))


def extend(children: st.SearchStrategy[Pair]) -> st.SearchStrategy[Pair]:
    def combine(op: str, x: Pair, y: Pair) -> Pair:
        (ex, fx), (ey, fy) = x, y
        table = {
            "|": (ex | ey, lambda h: fx(h) or fy(h)),
            "&": (ex & ey, lambda h: fx(h) and fy(h)),
            "^": (ex ^ ey, lambda h: fx(h) != fy(h)),
            "+": (ex + ey, lambda h: fx(h) or fy(h)),
            "~": (~ex, lambda h: not fx(h)),
        }
        return table[op]

    return st.builds(combine, st.sampled_from("|&^+~"), children, children)


@settings(database=None, max_examples=300)
@given(
    pair=st.recursive(leaf(), extend, max_leaves=12),
    held_paths=st.frozensets(st.sampled_from(PATHS)),
)
def test_evaluation_matches_reference_with_one_query(pair, held_paths):
    expr, truth = pair
    spy = Spy(memberships(*held_paths))
    assert evaluate(expr, "u", spy).allowed is truth(held_paths)
    assert len(spy.calls) == 1
    assert set(spy.calls[0][1]) == set(expr.walk())
