"""The original README's chat snippet: a group computed per request by a callable.

Run the login service first (``sh server.sh debug``), then from the repository
root, or from anywhere when the package is installed from this clone (``pip install
-e``): ``run/`` is found; or set ``LOGIN_RUN_DIR``::

    .venv/bin/python examples/chat_images_app.py    # http://localhost:8080/chats/ann/images/cat

``group=`` may be a callable: it is called for each request with the route's
arguments it names and ``user`` (the logged-in user), and returns the expression to
check. Here a viewer needs ``chat/<DMing>/<their id>/<img>/read_access`` and must
not be in ``chat/<DMing>/blocked``.

Two differences from the original README:

* It wrote ``!(chat / DMing / "blocked")``, which is not Python: negation is ``~``
  (and ``~`` binds tighter than ``/``, hence the parentheses).
* Its lambda used ``img`` without taking it (``lambda DMing, user: ...``): here it
  is a parameter like ``DMing``.

Access flows *down* the tree, so whoever holds ``chat`` or ``chat/<DMing>`` (the
namespace's owner included) also holds ``chat/<DMing>/blocked`` and is refused
here: grant viewers ``.../<their id>/<img>/read_access``, never the chat itself.
"""

import os

import flask

from flask_modular_login import AccessNamespace, login_required

app = flask.Flask(__name__)
# Where the browser finds the login service (another port in development).
login_required.prefix = os.environ.get("LOGIN_SERVICE", "//localhost:8000")

# The root group "chat", owned by the 'test' provider's user "127.0.0.1" (no I/O here).
chat = AccessNamespace("chat", ownership_method="test", owner_id="127.0.0.1")


@app.route("/chats/<DMing>/images/<img>")
@login_required(kw="user", group=lambda DMing, img, user:
                ~(chat / DMing / "blocked")                              # not blocked
                & (chat / DMing / user["id"] / img / "read_access"))    # and may see img
def chat_image(DMing, img, user):
    return f"image {img} of chat {DMing}, shown to {user['name']}"


if __name__ == "__main__":
    app.run(port=int(os.environ.get("PORT", "8080")))
