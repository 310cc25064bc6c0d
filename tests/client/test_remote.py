"""RemoteLoginBuilder on a Flask app with no run/ and no database: leases verified with the
service's JWKS (over real HTTP), renewed over a real channel, revocations pushed, group checks
asked of the service and cached until a pushed change; fail closed while the channel is down."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import flask
import pytest
from werkzeug.serving import make_server

from flask_modular_login import AccessNamespace, LoginBuilder, RemoteLoginInterface
from flask_modular_login.channel.server import ChannelServer
from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.protocol.auth import new_credential, parse_credential
from tests.channel.harness import ServerThread, wait_until
from tests.support.access import People
from tests.support.servers import free_port

ROOM = AccessNamespace("remote", ownership_method="test", owner_id="olivia") / "room"


@pytest.fixture
def http_service(service) -> Iterator[str]:
    """The login service on a real HTTP port (the remote app fetches its JWKS there)."""
    server = make_server("127.0.0.1", 0, service, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def channel(service) -> Iterator[ServerThread]:
    """The channel over the service's store and services (their clock is the test's frozen
    one; the channel's own, for handshakes and heartbeats, is real time)."""
    state = service.extensions["flask_modular_login"]
    server = ChannelServer(state.store, state.services, state.settings)
    thread = ServerThread(server, free_port()).start()
    yield thread
    if thread.server.listening.is_set():
        thread.stop()


@pytest.fixture
def remote(service, http_service, channel, clock) -> Iterator[RemoteLoginInterface]:
    store = service.extensions["flask_modular_login"].store
    credential = new_credential("remote-app", secrets.token_bytes(32))
    store.clients.add("remote-app", parse_credential(credential)[1], int(clock()))
    interface = RemoteLoginInterface(http_service, channel.uri, credential, clock=clock)
    assert interface.channel.wait_ready(5)
    yield interface
    interface.close()


@pytest.fixture
def app(remote) -> flask.Flask:
    login_required, login_optional = LoginBuilder(interface=remote).decorators
    app = flask.Flask("remote_app")

    @app.route("/hidden")
    @login_required
    def hidden():
        return {"hello": flask.g.user["name"]}

    @app.route("/room")
    @login_required(kw="user", group=ROOM)
    def room(user):
        return {"in": user["name"]}

    return app


def test_a_valid_lease_is_checked_without_the_service(app, login, remote, monkeypatch):
    client = app.test_client()
    client.set_cookie("login", login("alice"))
    remote.access.ensure_namespaces([ROOM])  # else the app's first request writes it (one RPC)
    monkeypatch.setattr(remote.channel, "call", lambda *a, **k: pytest.fail("an RPC"))
    assert client.get("/hidden").json == {"hello": "alice"}


def test_a_remote_apps_namespaces_exist_after_its_first_request(app, service):
    owners = service.extensions["flask_modular_login"].store.access.owners
    assert owners(GroupPath(ROOM.root)) == []
    assert app.test_client().get("/hidden").status_code == 302  # logged out, not /room
    assert owners(GroupPath(ROOM.root)) == [("test", "olivia")]


def test_an_expired_lease_is_renewed_over_the_channel(app, login, clock):
    client = app.test_client()
    token = login("alice")
    client.set_cookie("login", token)
    clock.advance(901)
    response = client.get("/hidden")
    assert response.status_code == 200 and response.json == {"hello": "alice"}
    renewed = client.get_cookie("login").value
    assert renewed != token
    assert client.get("/hidden").status_code == 200


def test_a_logout_is_pushed_and_refused_at_once(app, login, service_client):
    client = app.test_client()
    client.set_cookie("login", login("alice"))
    assert client.get("/hidden").status_code == 200
    csrf = service_client.get("/login/sessions").json["csrf_token"]
    service_client.post("/login/logout", headers={"X-CSRF-Token": csrf})
    took = wait_until(lambda: client.get("/hidden").status_code == 302, 2,
                      "the remote app refusing the ended session")
    assert took < 1.0


def test_group_checks_are_asked_of_the_service_and_follow_pushed_changes(app, remote, service,
                                                                         login):
    people = People(service, login)
    owner, guest = app.test_client(), app.test_client()
    for client, name in ((owner, "olivia"), (guest, "bob")):
        client.set_cookie("login", people[name].client.get_cookie("login").value)
    assert owner.get("/room").json == {"in": "olivia"}
    assert guest.get("/room").status_code == 403
    bob = people["bob"].id
    remote.access.add_member(ROOM, bob)
    assert guest.get("/room").json == {"in": "bob"}, "a change made here is seen at once"
    people["olivia"].post_json("/login/access/remove", {"group": str(ROOM), "user": bob})
    wait_until(lambda: guest.get("/room").status_code == 403, 2,
               "a removal made on the service reaching the remote app")


def test_while_the_channel_is_down_valid_leases_work_and_the_rest_fails_closed(
        app, login, channel, remote, clock):
    client = app.test_client()
    client.set_cookie("login", login("olivia"))
    assert client.get("/room").status_code == 200
    channel.stop()
    wait_until(lambda: not remote.channel.connected, 5, "the client noticing the outage")
    assert client.get("/hidden").json == {"hello": "olivia"}, "a valid lease still works"
    assert client.get("/room").status_code == 403, "group checks fail closed"
    clock.advance(901)
    assert client.get("/hidden").status_code == 302, "no renewal without the channel"
