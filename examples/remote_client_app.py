"""A Flask client app on ANOTHER host: no ``run/``, no database, only a channel credential.

On the login service's host, allow the app once and keep the printed credential::

    .venv/bin/flask-modular-login clients add chat-app

Then, on the app's host (here the same machine, any directory)::

    LOGIN_CHANNEL_CREDENTIAL=chat-app.... .venv/bin/python examples/remote_client_app.py

``LOGIN_SERVICE_URL`` (default ``http://localhost:8000``) is where the service and
its public keys are, ``LOGIN_CHANNEL_URI`` (default ``ws://localhost:8001``) the
channel; ``PORT`` (default 8081) where this app listens.
"""

from __future__ import annotations

import os

import flask

from flask_modular_login import AccessNamespace, RemoteLoginBuilder

app = flask.Flask(__name__)
login = RemoteLoginBuilder(
    base_url=os.environ.get("LOGIN_SERVICE_URL", "http://localhost:8000"),
    uri=os.environ.get("LOGIN_CHANNEL_URI", "ws://localhost:8001"),
    credential=os.environ["LOGIN_CHANNEL_CREDENTIAL"],
)
login_required, login_optional = login.decorators

group = AccessNamespace("test_group", ownership_method="test", owner_id="127.0.0.1")


@app.route("/hidden")
@login_required
def hidden():
    return {"hello": flask.g.user["name"]}


@app.route("/profile_api")
@login_optional(kw="user")
def profile(user=None):
    return {"user": user}


@app.route("/access_profile")
@login_required(kw="user", group=group)
def access_profile(user):
    return {"user": user}


if __name__ == "__main__":
    app.run(port=int(os.environ.get("PORT", "8081")))
