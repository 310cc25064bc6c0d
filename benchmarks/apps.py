"""The apps the request benchmarks serve, side by side: a bare Flask route, ours
(``login_required`` with a valid lease) and Flask-Login with a SQLite ``user_loader``;
and a lease cookie from the login service's ``test`` provider.

Used in-process through the Flask test client (benchmarks/run.py) and under uwsgi
behind nginx (benchmarks/deployment.py, through benchmarks/wsgi_variants.py).
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import threading
from pathlib import Path

import flask
from route import PATH  # benchmarks/route.py

import flask_modular_login

try:
    import flask_login
except ModuleNotFoundError:
    sys.exit("flask-login is missing: pip install -e '.[bench]'  (or pip install flask-login)")

USERS = 1000  # rows in the Flask-Login variant's user table


def bare_app() -> flask.Flask:
    app = flask.Flask("bench_bare")

    @app.route(PATH)
    def hidden() -> str:
        return "ok"

    return app


def ours_app(run_dir: Path) -> flask.Flask:
    builder = flask_modular_login.LoginBuilder(prefix="//localhost:8000", run_dir=str(run_dir))
    login_required, _login_optional = builder.decorators
    app = flask.Flask("bench_ours")

    @app.route(PATH)
    @login_required
    def hidden() -> str:
        return "ok"

    return app


class SQLiteUser(flask_login.UserMixin):
    def __init__(self, user_id: int, name: str, email: str) -> None:
        self.id = user_id
        self.name = name
        self.email = email


def create_user_db(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                   "email TEXT NOT NULL UNIQUE)")
        db.executemany("INSERT INTO users VALUES (?, ?, ?)",
                       ((i, f"user {i}", f"user{i}@example.com") for i in range(1, USERS + 1)))
    db.close()


def flask_login_app(db_path: Path, per_request_connection: bool = False,
                    secret_key: bytes | None = None) -> flask.Flask:
    """A usual Flask-Login app: a ``user_loader`` that SELECTs the user by id.

    By default each thread keeps one open connection (what a connection pool gives
    an app): the cheapest honest loader. ``per_request_connection`` opens and closes
    one per request in ``g`` instead, as in Flask's tutorial.
    """
    app = flask.Flask("bench_flask_login")
    app.config["SECRET_KEY"] = secret_key or os.urandom(32)
    manager = flask_login.LoginManager(app)
    pool = threading.local()

    def get_db() -> sqlite3.Connection:
        if per_request_connection:
            if "db" not in flask.g:
                flask.g.db = sqlite3.connect(db_path)
            return flask.g.db
        if not hasattr(pool, "db"):
            pool.db = sqlite3.connect(db_path)
        return pool.db

    @app.teardown_appcontext
    def close_db(_error: BaseException | None) -> None:
        db = flask.g.pop("db", None)
        if db is not None:
            db.close()

    @manager.user_loader
    def load_user(user_id: str) -> SQLiteUser | None:
        row = get_db().execute("SELECT id, name, email FROM users WHERE id = ?",
                               (int(user_id),)).fetchone()
        return SQLiteUser(*row) if row else None

    @app.post("/bench-login/<int:user_id>")
    def bench_login(user_id: int) -> str:
        user = load_user(str(user_id))
        if user is None:
            flask.abort(404)
        flask_login.login_user(user)
        return "logged in"

    @app.route(PATH)
    @flask_login.login_required
    def hidden() -> str:
        return "ok"

    return app


def our_lease_token(run_dir: Path, database_url: str | None = None) -> str:
    """Log in through the login service's ``test`` provider; return the lease cookie."""
    config = {"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": True}
    if database_url is not None:
        config["LOGIN_DATABASE_URL"] = database_url
    service = flask_modular_login.create_app(config)
    client = service.test_client()
    page = client.get("/login/test/")
    found = re.search(rb'name="csrf_token"\s+value="([^"]+)"', page.data)
    if page.status_code != 200 or found is None:
        raise RuntimeError(f"test login page: {page.status_code}, no csrf_token found")
    done = client.post("/login/test/", data={"username": "bench-user",
                                             "csrf_token": found.group(1).decode()})
    for header in done.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == "login":
            token = rest.split(";", 1)[0]
            if token:
                return token
    raise RuntimeError(f"test login did not set the login cookie (status {done.status_code})")
