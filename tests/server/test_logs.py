"""Request logs keep no bearer secret: invite codes in accept links, OAuth ``code`` and
``state`` on callbacks (the development server's log and the app's own log; uwsgi's is in
tests/e2e/test_deployment.py)."""

from __future__ import annotations

import http.client
import logging
import threading

import flask
import pytest
from werkzeug.serving import make_server

from flask_modular_login import LoginBlueprint
from flask_modular_login.server.logs import mask
from tests.support.logs import CODE, SECRET_PATHS, secrets_in


@pytest.mark.parametrize("path", SECRET_PATHS)
def test_mask_removes_every_secret_and_keeps_the_rest(path):
    masked = mask(f'127.0.0.1 - - [date] "GET {path} HTTP/1.1" 302 -')
    assert secrets_in(masked) == [] and "***" in masked
    assert masked.startswith('127.0.0.1 - - [date] "GET /login/')


@pytest.mark.parametrize("line", [
    '"GET /login/view/sessions HTTP/1.1" 200 -',
    '"GET /login/?next=/login/view/groups HTTP/1.1" 200 -',
    '"POST /login/access/view/code HTTP/1.1" 429 -',
    '"GET /login/access/view/invite?group=chat HTTP/1.1" 200 -',
])
def test_mask_leaves_lines_without_secrets_alone(line):
    assert mask(line) == line


@pytest.fixture
def dev_server(service):
    """The login service behind werkzeug's development server (what ``serve`` runs)."""
    server = make_server("127.0.0.1", 0, service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_the_development_servers_request_log_holds_no_invite_code(dev_server, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    for path in SECRET_PATHS:
        connection = http.client.HTTPConnection("127.0.0.1", dev_server, timeout=10)
        connection.request("GET", path)
        connection.getresponse().read()
        connection.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len(lines) == len(SECRET_PATHS), "every request is logged"
    assert secrets_in("\n".join(lines)) == []
    assert any("/login/access/accept/***" in line for line in lines)


def test_the_apps_own_log_masks_paths_too(service, caplog):
    service.logger.error("Exception on %s [%s]", f"/login/access/accept/{CODE}", "POST")
    assert secrets_in(caplog.text) == [] and "/login/access/accept/***" in caplog.text


def test_an_app_that_mounts_the_service_masks_its_log_too(run_dir, caplog):
    host = flask.Flask("host")
    LoginBlueprint(host, LOGIN_RUN_DIR=str(run_dir), LOGIN_DEBUG=True)
    host.logger.error("Exception on %s [%s]", f"/login/access/accept/{CODE}", "POST")
    assert secrets_in(caplog.text) == [] and "/login/access/accept/***" in caplog.text
