"""docs/settings.md lists exactly the settings of config.py, with their real defaults.

The names come from the code (``_CONVERTERS``, the ``Settings`` fields) and from the table
in config.py's docstring; each default written on the page (its first `literal`, or
``unset``) must resolve to the same settings as leaving the setting out."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from flask_modular_login import config
from flask_modular_login.config import PREFIX, Settings, load_settings
from tests.support.servers import ROOT

PAGE = (ROOT / "docs" / "settings.md").read_text()
ROW = re.compile(r"^\| `(LOGIN_\w+)` \| (.+?) \| (.+) \|$", re.MULTILINE)
ROWS = {name: default for name, default, _ in ROW.findall(PAGE)}
CODE = {PREFIX + name.upper() for name in config._CONVERTERS}


def test_the_page_lists_exactly_the_settings_of_the_code():
    assert len(ROW.findall(PAGE)) == len(ROWS)  # no setting twice
    assert set(ROWS) == CODE
    assert {PREFIX + f.name.upper() for f in fields(Settings) if f.name != "extra"} == CODE


def test_config_docstring_lists_the_same_settings():
    documented = set(re.findall(r"^(LOGIN_[A-Z_]+)\s", config.__doc__, re.MULTILINE))
    assert documented == CODE


def written_default(name: str, cell: str) -> str:
    if cell.startswith("unset"):
        return ""
    match = re.match(r"`([^`]*)`", cell)
    assert match, f"{name}: the default must start with a `literal` or 'unset'"
    return match.group(1).replace("<run>", str(Path("run").resolve()))


def test_every_written_default_is_the_real_one():
    defaults = load_settings({}, environ={})
    for name, cell in ROWS.items():
        written = load_settings({}, environ={name: written_default(name, cell)})
        attribute = name.removeprefix(PREFIX).lower()
        assert getattr(written, attribute) == getattr(defaults, attribute), name


def test_the_readme_points_to_the_page():
    readme = (ROOT / "README.md").read_text()
    assert "(docs/settings.md)" in readme
