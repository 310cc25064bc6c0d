"""The original README's access-group snippet: ``/access_profile`` needs ``test_group``.

Run the login service first (``sh server.sh debug``), then from the repository
root, or from anywhere when the package is installed from this clone (``pip install
-e``): ``run/`` is found; or set ``LOGIN_RUN_DIR``::

    .venv/bin/python examples/access_group_app.py   # http://localhost:8080/access_profile

Log in with the service's 'test' provider as ``127.0.0.1`` (its default name): that
identity owns ``test_group`` and sees its profile. Anyone else logged in gets 403
until invited to the group (the service's invitation pages, or ``flask-modular-login
invites``). Logged out, a browser is sent to the login page (JSON requests get 401).
"""

import os

import flask

from flask_modular_login import AccessNamespace, login_required

app = flask.Flask(__name__)
# Where the browser finds the login service (another port in development).
login_required.prefix = os.environ.get("LOGIN_SERVICE", "//localhost:8000")

# The root group "test_group", owned by the 'test' provider's user "127.0.0.1".
# Declaring it does no I/O: the group is written to the store on first use.
group = AccessNamespace("test_group", ownership_method="test", owner_id="127.0.0.1")


@app.route("/access_profile")
@login_required(kw="user", group=group)   # logged in AND a member (or owner) of test_group
def access_profile(user):
    return str(user)                      # the user: id, name, picture


if __name__ == "__main__":
    app.run(port=int(os.environ.get("PORT", "8080")))
