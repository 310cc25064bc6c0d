"""The arrows point one way: ``server``, ``cli`` and the channel call ``service``; ``service``
uses ``core`` and ``store``; ``client`` uses ``core`` and, through its ports, ``store`` or the
channel; ``core`` imports nothing of the package but itself. Checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "src" / "flask_modular_login"

FORBIDDEN = {
    "core": {"client", "server", "service", "store", "channel", "cli", "authority", "keystore",
             "config", "cookies", "negotiation"},
    "cache": {"client", "server", "service", "store", "channel", "cli", "authority"},
    "store": {"client", "server", "service", "channel", "cli"},
    "service": {"client", "server", "channel", "cli"},
    "server": {"client", "channel"},
    "client": {"server", "service", "cli"},
}


def package_imports(path: Path) -> set[str]:
    """The first-level modules of the package that ``path`` imports."""
    layer_depth = len(path.relative_to(PACKAGE).parts) - 1
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            climbed = node.level - 1
            if climbed < layer_depth:
                continue  # inside the same layer
            names = (node.module or "").split(".") if node.module else [a.name for a in node.names]
            found.add(names[0])
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            for name in [module] if module else [a.name for a in node.names]:
                parts = name.split(".")
                if parts[0] == "flask_modular_login" and len(parts) > 1:
                    found.add(parts[1])
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_point_one_way(layer):
    wrong = {str(path.relative_to(PACKAGE)): sorted(package_imports(path) & FORBIDDEN[layer])
             for path in (PACKAGE / layer).rglob("*.py")}
    assert {path: names for path, names in wrong.items() if names} == {}
