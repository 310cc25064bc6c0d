"""docs/security.md lists all 23 properties, and every test it cites exists (so it cannot drift)."""

from __future__ import annotations

import ast
import re

from tests.support.servers import ROOT

DOC = (ROOT / "docs" / "security.md").read_text()
CITED = re.compile(r"`(tests/[\w/]+\.py)::(\w+(?:::\w+)?)`")


def names_in(body: list[ast.stmt]) -> set[str]:
    """What a module or class body defines: functions, classes and assigned names."""
    names = set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def defines(path: str, name: str) -> bool:
    file = ROOT / path
    if not file.is_file():
        return False
    body = ast.parse(file.read_text()).body
    outer, _, inner = name.partition("::")
    if not inner:
        return outer in names_in(body)
    classes = [n for n in body if isinstance(n, ast.ClassDef) and n.name == outer]
    return any(inner in names_in(c.body) for c in classes)


def test_the_23_properties_are_numbered_in_order():
    numbers = [int(n) for n in re.findall(r"^### (\d+)\. \S", DOC, re.MULTILINE)]
    assert numbers == list(range(1, 24))


def test_every_cited_test_exists():
    cited = CITED.findall(DOC)
    assert len(cited) > 23
    assert [f"{path}::{name}" for path, name in cited if not defines(path, name)] == []


def test_the_page_stands_alone():
    assert "SECURITY.md" not in DOC and not re.search(r"\bissues?\b", DOC, re.IGNORECASE)
    for target in re.findall(r"\]\(([^)#]*)", DOC):
        path = (ROOT / "docs" / target).resolve()
        assert path.is_file() and ROOT in path.parents, target
