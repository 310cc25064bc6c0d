"""``LOGIN_TRUSTED_PROXIES``: 0 believes no ``X-Forwarded-For`` (a forged one changes
nothing), n believes the n-th address from the right (one nginx: the last hop)."""

from __future__ import annotations

import flask
import pytest

from flask_modular_login import create_app
from flask_modular_login.ops.proxies import trust_proxies
from tests.support.access import Browser

FORGED = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7", "X-Forwarded-Proto": "https"}


def service_trusting(run_dir, clock, count: int) -> flask.Flask:
    return create_app({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": True, "TESTING": True,
                       "LOGIN_TRUSTED_PROXIES": count}, clock=clock)


def session_ip(app: flask.Flask, login) -> str:
    browser = app.test_client()
    browser.environ_base.update({"HTTP_X_FORWARDED_FOR": FORGED["X-Forwarded-For"],
                                 "HTTP_X_FORWARDED_PROTO": "https"})
    login("alice", client=browser)
    [session] = browser.get("/login/sessions").json["sessions"]
    return session["ip"]


@pytest.mark.parametrize("count, ip", [(0, "127.0.0.1"), (1, "203.0.113.7"),
                                       (2, "198.51.100.1")])
def test_the_sessions_page_shows_the_trusted_address(run_dir, clock, login, count, ip):
    assert session_ip(service_trusting(run_dir, clock, count), login) == ip


def short_code_tries(app: flask.Flask, login) -> list[int]:
    """Four users, each behind a different forged address, 8 wrong short codes each."""
    statuses = []
    for n in range(4):
        browser = Browser(app, login, f"user{n}")
        browser.client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{n + 1}"
        statuses += [browser.post_json("/login/access/code", {"code": "ZZZZZZZZ"}).status_code
                     for _ in range(8)]
    return statuses


def test_with_no_trusted_proxy_a_forged_address_does_not_escape_the_ip_limit(run_dir, clock,
                                                                            login):
    statuses = short_code_tries(service_trusting(run_dir, clock, 0), login)
    assert statuses == [404] * 30 + [429] * 2, "one peer: one rate-limit key"


def test_behind_one_proxy_each_client_address_has_its_own_limit(run_dir, clock, login):
    assert short_code_tries(service_trusting(run_dir, clock, 1), login) == [404] * 32


def test_wrapping_is_idempotent_and_zero_wraps_nothing():
    app = flask.Flask(__name__)
    original = app.wsgi_app
    trust_proxies(app, 0)
    assert app.wsgi_app == original
    trust_proxies(app, 1)
    wrapped = app.wsgi_app
    trust_proxies(app, 1)
    trust_proxies(app, 2)
    assert app.wsgi_app is wrapped and wrapped.app == original  # type: ignore[attr-defined]


def test_a_negative_count_is_refused(run_dir):
    with pytest.raises(ValueError, match="LOGIN_TRUSTED_PROXIES"):
        create_app({"LOGIN_RUN_DIR": str(run_dir), "LOGIN_TRUSTED_PROXIES": "-1"})
