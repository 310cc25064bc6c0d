"""Local client apps hear events pushed over the channel's unix socket: a person who just
joined a group is let in on their very next request, and a logout is refused at once, without
waiting for the poll interval (the clock here never moves, so polling alone would never see
them)."""

from __future__ import annotations

from collections.abc import Iterator

import flask
import pytest

from flask_modular_login import AccessNamespace, LocalLoginInterface, LoginBuilder
from flask_modular_login.channel.local import SOCKET_NAME, ensure_local_credential
from flask_modular_login.channel.server import ChannelServer
from flask_modular_login.sockets import ensure_socket_dir
from tests.channel.harness import ServerThread, wait_until
from tests.support.access import People, accept_path, invite
from tests.support.servers import free_port

HALL = AccessNamespace("hall", ownership_method="test", owner_id="olivia")


@pytest.fixture
def channel(service, run_dir) -> Iterator[ServerThread]:
    state = service.extensions["flask_modular_login"]
    ensure_local_credential(state.store, run_dir)
    server = ChannelServer(state.store, state.services, state.settings)
    sockets = ensure_socket_dir(state.settings)
    thread = ServerThread(server, free_port(), sockets / SOCKET_NAME).start()
    yield thread
    thread.stop()


@pytest.fixture
def local(run_dir, clock, channel) -> Iterator[LocalLoginInterface]:
    interface = LocalLoginInterface(run_dir=str(run_dir), debug=True, clock=clock)
    assert interface.channel is not None and interface.channel.wait_ready(5)
    yield interface
    interface.close()


@pytest.fixture
def app(local) -> flask.Flask:
    login_required, _ = LoginBuilder(interface=local).decorators
    app = flask.Flask("pushed")

    @app.route("/hall")
    @login_required(kw="user", group=HALL)
    def hall(user):
        return {"in": user["name"]}

    @app.route("/hidden")
    @login_required
    def hidden():
        return {"hello": flask.g.user["name"]}

    return app


def caught_up(interface: LocalLoginInterface, service) -> bool:
    return interface.feed.cursor >= service.extensions["flask_modular_login"].store.events.cursor()


def test_a_person_who_just_joined_is_let_in_on_the_next_request(app, local, service, login):
    people = People(service, login)
    guest = app.test_client()
    guest.set_cookie("login", people["bob"].client.get_cookie("login").value)
    owner = app.test_client()
    owner.set_cookie("login", people["olivia"].client.get_cookie("login").value)
    assert owner.get("/hall").status_code == 200  # makes the namespace exist
    assert guest.get("/hall").status_code == 403  # cached as refused
    created = invite(people["olivia"], group="hall")
    assert people["bob"].post_json(accept_path(created), {}).status_code == 200
    wait_until(lambda: caught_up(local, service), 2, "the join being pushed")
    assert guest.get("/hall").json == {"in": "bob"}


def test_a_logout_is_refused_without_waiting_for_the_poll(app, local, service, login,
                                                         service_client):
    client = app.test_client()
    client.set_cookie("login", login("alice"))
    assert client.get("/hidden").status_code == 200
    csrf = service_client.get("/login/sessions").json["csrf_token"]
    service_client.post("/login/logout", headers={"X-CSRF-Token": csrf})
    wait_until(lambda: caught_up(local, service), 2, "the logout being pushed")
    assert client.get("/hidden").status_code == 302


def test_without_a_channel_a_local_client_polls_only(run_dir, clock, service):
    interface = LocalLoginInterface(run_dir=str(run_dir), debug=True, clock=clock)
    assert interface.channel is None
