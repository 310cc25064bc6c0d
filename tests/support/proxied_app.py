"""A client app for the nginx test, served over HTTP on ``$PORT``: ``/app/whoami`` (login
required) answers the user's name and the address and scheme the app believes."""

from __future__ import annotations

import os

import flask
from werkzeug.serving import run_simple

from flask_modular_login import LoginBuilder

login_required, login_optional = LoginBuilder().decorators
app = flask.Flask(__name__)


@app.route("/app/whoami")
@login_required(kw="user")
def whoami(user):
    return {"name": user["name"], "ip": flask.request.remote_addr,
            "scheme": flask.request.scheme}


if __name__ == "__main__":
    run_simple("127.0.0.1", int(os.environ["PORT"]), app, threaded=True)
