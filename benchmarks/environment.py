"""What every benchmark script does before importing the package.

``LOGIN_...`` variables configure our builder and service; a benchmark must not
silently pick up someone's database URL or lease length from the shell. Without
an installed package, the source tree is used.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def prepare() -> None:
    for key in [k for k in os.environ if k.startswith("LOGIN_")]:
        del os.environ[key]
    try:
        import flask_modular_login  # noqa: F401
    except ModuleNotFoundError as error:
        if error.name != "flask_modular_login":
            raise
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
