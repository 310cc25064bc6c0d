"""``GET /login/me``: who is logged in, as JSON; an expired lease renews there as on any page."""

from __future__ import annotations


def test_me_names_the_logged_in_user_and_the_lease_end(service_client, login, interface):
    token = login("alice")
    lease = interface.verifier.lease(token)
    answer = service_client.get("/login/me")
    assert answer.status_code == 200
    assert answer.json == {"user": lease.user(), "lease_expires_at": lease.expires_at,
                           "session_expires_at": lease.session_expires_at}


def test_me_without_a_login_is_401_json(service_client):
    answer = service_client.get("/login/me")
    assert answer.status_code == 401
    assert answer.json["error"] == "login_required"


def test_an_expired_lease_is_renewed_by_me(service_client, login, interface, clock):
    first = interface.verifier.lease(login("alice"))
    clock.advance(first.expires_at - first.issued_at + 1)
    answer = service_client.get("/login/me")
    assert answer.status_code == 200
    assert answer.json["lease_expires_at"] > first.expires_at
    assert "login=" in answer.headers["Set-Cookie"]


def test_an_ended_session_is_refused_whether_or_not_its_lease_ran_out(
        service_client, login, interface, clock):
    lease = interface.verifier.lease(login("alice"))
    interface.store.sessions.revoke(lease.session_id, "logout", int(clock()))
    assert service_client.get("/login/me").status_code == 401, "lease still running"
    service_client.set_cookie("login", login("bob"))
    bob = interface.verifier.lease(service_client.get_cookie("login").value)
    interface.store.sessions.revoke(bob.session_id, "logout", int(clock()))
    clock.advance(bob.expires_at - bob.issued_at + 1)
    assert service_client.get("/login/me").status_code == 401, "lease ran out"
