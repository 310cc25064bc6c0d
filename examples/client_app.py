"""A client app on its own port that uses the login service.

Run the login service first (``sh server.sh debug``), then from the repository
root, or from anywhere when the package is installed from this clone (``pip install
-e``): ``run/`` is found; or set ``LOGIN_RUN_DIR``::

    .venv/bin/python examples/client_app.py        # http://localhost:8080/hidden

The two group routes at the end are explained on their own in
``examples/access_group_app.py`` and ``examples/chat_images_app.py``.
"""

from __future__ import annotations

import os

import flask

from flask_modular_login import AccessNamespace, login_optional, login_required

app = flask.Flask(__name__)
login_required.prefix = os.environ.get("LOGIN_SERVICE", "//localhost:8000")

# Owned by whoever logs in with the test provider as "127.0.0.1" (its default name).
group = AccessNamespace("test_group", ownership_method="test", owner_id="127.0.0.1")
chat = AccessNamespace("chat", ownership_method="test", owner_id="127.0.0.1")


@app.route("/user_info/<kind>")
@login_required(kw="user")
def info(kind, user):
    return {"kind": kind, "id": user["id"], "name": user["name"]}


@app.route("/profile_api")
@login_optional(kw="user")
def profile(user=None):
    return {"user": user}


@app.route("/hidden")
@login_required
def hidden():
    return {"hello": flask.g.user["name"]}


@app.route("/access_profile")
@login_required(kw="user", group=group)
def access_profile(user):
    return {"id": user["id"], "name": user["name"]}


@app.route("/chats/<DMing>/images/<img>")
@login_required(kw="user", group=lambda DMing, img, user:
                ~(chat / DMing / "blocked") & (chat / DMing / user["id"] / img / "read_access"))
def image(DMing, img, user):
    return {"chat": DMing, "image": img, "viewer": user["name"]}


private = flask.Blueprint("private", __name__, url_prefix="/private")


@private.route("/")
def private_index():
    return {"user": flask.g.user}


login_required(private)
app.register_blueprint(private)

if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8080")))
