"""A client app's ``LOGIN_TRUSTED_PROXIES``: its ``request.remote_addr`` and scheme come
from the proxy's headers from its first protected request on, and never when 0."""

from __future__ import annotations

import flask
import pytest

from flask_modular_login import LocalLoginInterface, LoginBuilder

HEADERS = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7", "X-Forwarded-Proto": "https"}


def client_app(run_dir, clock, count: int) -> flask.Flask:
    interface = LocalLoginInterface(run_dir=str(run_dir), debug=True, clock=clock,
                                    trusted_proxies=count)
    login_required, _ = LoginBuilder(prefix="//login.example", interface=interface).decorators
    app = flask.Flask("proxied")

    @app.route("/whoami")
    @login_required(kw="user")
    def whoami(user):
        return {"ip": flask.request.remote_addr, "scheme": flask.request.scheme}

    @app.route("/open")
    def open_page():
        return {"ip": flask.request.remote_addr}

    return app


@pytest.mark.parametrize("count, ip, scheme", [(0, "127.0.0.1", "http"),
                                               (1, "203.0.113.7", "https")])
def test_protected_routes_see_the_trusted_address(service, run_dir, clock, login, count, ip,
                                                   scheme):
    app = client_app(run_dir, clock, count)
    browser = app.test_client()
    browser.set_cookie("login", login("alice"))
    first = browser.get("/whoami", headers=HEADERS)
    assert first.status_code == 200 and first.json == {"ip": ip, "scheme": scheme}
    assert browser.get("/whoami", headers=HEADERS).json == {"ip": ip, "scheme": scheme}
    # once set up, the whole app trusts the proxy (or not), unprotected routes too
    assert browser.get("/open", headers=HEADERS).json == {"ip": ip}
