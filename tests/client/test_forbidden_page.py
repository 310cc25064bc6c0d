"""The 403 page a client app shows when ``group=`` refuses a logged-in person, unless the
app answers 403 itself."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import flask
import pytest

from flask_modular_login import AccessNamespace, LoginBuilder


@pytest.fixture
def app(interface):
    app = flask.Flask("forbidden_app")
    builder = LoginBuilder(prefix="//login.example", interface=interface)
    login_required, _ = builder.decorators
    group = AccessNamespace("test_group", ownership_method="test", owner_id="127.0.0.1")

    @app.route("/members")
    @login_required(kw="user", group=group)
    def members(user):
        return {"user": user}

    @app.route("/either")
    @login_required(group=group | group / "x")
    def either():
        return {}

    return app


def browse(app, login, interface, name: str = "bob"):
    browser = app.test_client()
    browser.set_cookie("login", login(name))
    return browser


def test_a_refused_person_sees_who_they_are_and_where_to_go(app, login, interface):
    page = browse(app, login, interface).get("/members")
    assert page.status_code == 403 and page.mimetype == "text/html"
    assert "You are not in test_group" in page.text
    assert "Signed in as <strong>bob</strong>" in page.text
    links = {text: href for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', page.text)}
    switch = urlsplit(links["Log in as someone else"].replace("&amp;", "&"))
    assert switch.netloc == "login.example" and switch.path == "/login/"
    assert parse_qs(switch.query) == {"next": ["http://localhost/members"], "switch": ["1"]}
    assert links["Enter an invite code"] == "//login.example/login/access/view/code"


def test_an_expression_of_several_groups_names_none(app, login, interface):
    page = browse(app, login, interface).get("/either")
    assert page.status_code == 403 and "You do not have access to this page" in page.text


def test_json_requests_still_get_401_access_denied(app, login, interface):
    answer = browse(app, login, interface).get("/members", headers={"Accept": "application/json"})
    assert answer.status_code == 401 and answer.json["error"] == "access_denied"


def test_an_app_with_its_own_403_handler_keeps_it(app, login, interface):
    @app.errorhandler(403)
    def own(error):
        return "our own page", 403

    page = browse(app, login, interface).get("/members")
    assert page.status_code == 403 and page.text == "our own page"
