"""Import an example file from examples/ as a fresh module, with no login service anywhere."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

from flask_modular_login import config, login_required
from tests.support.servers import ROOT

EXAMPLES = ROOT / "examples"


@pytest.fixture
def load_example(monkeypatch, tmp_path) -> Iterator[Callable[[str], ModuleType]]:
    """``load_example("client_app")`` executes ``examples/client_app.py`` afresh.

    As on a machine where the login service never ran: ``LOGIN_RUN_DIR`` is unset and no
    run directory is found (not even this checkout's ``run/``). The default builder's
    ``prefix``, which the Flask examples set at import, is given back afterwards.
    """
    def nothing_found(cwd=None):
        raise config.RunDirNotFound(f"no run directory (test: {tmp_path})")

    monkeypatch.delenv("LOGIN_RUN_DIR", raising=False)
    monkeypatch.setattr(config, "find_run_dir", nothing_found)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOGIN_SERVICE", raising=False)
    monkeypatch.setattr(login_required, "prefix", login_required.prefix)
    names: list[str] = []

    def load(stem: str) -> ModuleType:
        name = f"example_{stem}"
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{stem}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # Flask(__name__) finds its root path through it
        names.append(name)
        spec.loader.exec_module(module)
        return module

    yield load
    for name in names:
        sys.modules.pop(name, None)
