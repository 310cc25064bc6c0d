"""The WSGI app uwsgi serves for one variant of the deployment suite (benchmarks/deployment.py).

``BENCH_VARIANT`` names it: ``bare``, ``ours`` (``login_required``; ``BENCH_RUN_DIR`` is the
login service's run directory) or ``flask-login`` (``BENCH_USER_DB``, ``BENCH_SECRET``: the
SQLite user table and the hex secret its session cookie was signed with).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import bare_app, flask_login_app, ours_app  # noqa: E402  (benchmarks/apps.py)


def _application():  # noqa: ANN202  (a Flask app)
    variant = os.environ["BENCH_VARIANT"]
    if variant == "bare":
        return bare_app()
    if variant == "ours":
        return ours_app(Path(os.environ["BENCH_RUN_DIR"]))
    if variant == "flask-login":
        return flask_login_app(Path(os.environ["BENCH_USER_DB"]),
                               secret_key=bytes.fromhex(os.environ["BENCH_SECRET"]))
    raise SystemExit(f"unknown BENCH_VARIANT {variant!r}")


application = _application()
