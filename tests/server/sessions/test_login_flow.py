"""Logging in with the test provider, the login page, logout (issue 2, items 1 and 3)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from flask_modular_login import create_app
from tests.conftest import csrf_from


def test_logged_out_sessions_page_leads_to_a_test_login_and_back(service_client):
    response = service_client.get("/login/view/sessions")
    assert response.status_code == 302
    login_page = service_client.get(response.location)
    assert 'href="/login/test/?next=/login/view/sessions"' in login_page.text
    form = service_client.get("/login/test/?next=/login/view/sessions")
    assert 'value="127.0.0.1"' in form.text, "the username defaults to the visitor's IP"
    done = service_client.post("/login/test/", data={"username": "127.0.0.1",
                                                     "csrf_token": csrf_from(form.text)})
    assert done.status_code == 302 and done.location == "/login/view/sessions"
    page = service_client.get("/login/view/sessions")
    assert page.status_code == 200 and "Your sessions" in page.text


def test_login_page_json_twin_lists_providers(service_client):
    body = service_client.get("/login/", headers={"Accept": "application/json"}).json
    assert [p["name"] for p in body["providers"]] == ["test"]
    assert body["user"] is None


def test_unsafe_next_is_dropped_from_the_login_links(service_client):
    page = service_client.get("/login/?next=//evil.com/x")
    assert "evil" not in page.text
    service_client.get("/login/test/?next=https:evil.com")
    form = service_client.get("/login/test/")
    done = service_client.post("/login/test/", data={"username": "a",
                                                     "csrf_token": csrf_from(form.text)})
    assert done.location == "/login/view/sessions"


@pytest.mark.parametrize("target", ["/.//evil.com", "/login/../..//evil.com",
                                    "/%2e%2e//evil.com/x"])
def test_next_whose_dot_segments_lead_to_another_host_is_dropped(service_client, target):
    page = service_client.get("/login/", query_string={"next": target})
    assert "evil" not in page.text
    service_client.get("/login/test/", query_string={"next": target})
    form = service_client.get("/login/test/")
    done = service_client.post("/login/test/", data={"username": "a",
                                                     "csrf_token": csrf_from(form.text)})
    assert done.location == "/login/view/sessions"
    logged_in = service_client.get("/login/", query_string={"next": target})
    assert logged_in.status_code == 200 and "evil" not in logged_in.text


def test_allowed_client_origin_is_where_login_returns(service_client):
    service_client.get("/login/test/?next=http://127.0.0.1:8080/hidden")
    form = service_client.get("/login/test/?next=http://127.0.0.1:8080/hidden")
    done = service_client.post("/login/test/", data={"username": "a",
                                                     "csrf_token": csrf_from(form.text)})
    assert done.location == "http://127.0.0.1:8080/hidden"


def test_logged_in_user_with_next_goes_straight_there(service_client, login):
    login("alice")
    response = service_client.get("/login/?next=/login/view/sessions")
    assert response.status_code == 302 and response.location == "/login/view/sessions"


def test_every_login_makes_a_new_session_and_resets_service_state(service_client, login,
                                                                  interface):
    first = login("alice")
    old_csrf = service_client.get("/login/sessions").json["csrf_token"]
    second = login("alice")
    first_sid = interface.verifier.lease(first).session_id
    second_sid = interface.verifier.lease(second).session_id
    assert first_sid != second_sid
    assert service_client.get("/login/sessions").json["csrf_token"] != old_csrf
    facts = interface.store.sessions.facts(first_sid)
    assert facts.revoked, "the browser's previous session ended at the new login"


def test_session_ids_are_long_and_random(login, interface):
    ids = {interface.verifier.lease(login(f"user{i}")).session_id for i in range(5)}
    assert len(ids) == 5
    assert all(len(sid) >= 43 for sid in ids)  # 32 random bytes, base64url


def test_logout_is_post_only_revokes_and_clears_cookie(service_client, login, interface):
    token = login("alice")
    assert service_client.get("/login/logout").status_code == 405
    csrf = service_client.get("/login/sessions").json["csrf_token"]
    response = service_client.post("/login/logout", data={"csrf_token": csrf})
    assert response.status_code == 302
    assert service_client.get_cookie("login") is None
    assert interface.store.sessions.facts(interface.verifier.lease(token).session_id).revoked


def test_test_provider_is_404_outside_debug(run_dir: Path):
    app = create_app({"LOGIN_RUN_DIR": str(run_dir), "TESTING": True})
    client = app.test_client()
    assert client.get("/login/test/").status_code == 404
    assert client.post("/login/test/", data={"username": "x"}).status_code in (400, 404)
    assert "test" not in client.get("/login/providers").json["providers"]


@pytest.mark.parametrize("username", ["", " ", "x" * 65, "a\x00b", "line\nbreak"])
def test_bad_usernames_are_refused_without_a_session(service_client, username, interface):
    form = service_client.get("/login/test/")
    response = service_client.post("/login/test/", data={"username": username,
                                                         "csrf_token": csrf_from(form.text)})
    assert response.status_code == 400
    assert service_client.get_cookie("login") is None


def test_jwks_serves_the_public_keys_only(service_client, run_dir):
    keys = service_client.get("/login/.well-known/jwks.json").json["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "OKP" and "d" not in keys[0]


def _log_in(browser, username: str):
    form = browser.get("/login/test/")
    return browser.post("/login/test/", data={"username": username,
                                              "csrf_token": csrf_from(form.text)})


def test_end_others_between_a_logins_insert_and_its_lease_answers_no_500(
        service, service_client, login, interface, clock, monkeypatch):
    """A phone logs in while the laptop ends all other sessions, exactly between the new
    session's insert and the signing of its lease: both requests succeed, and the outcome
    is that of "login, then end others" (the phone's new session is ended)."""
    login("alice")  # the laptop
    csrf = service_client.get("/login/sessions").json["csrf_token"]
    phone = service.test_client()
    store = service.extensions["flask_modular_login"].store
    create, answers = store.sessions.create, []

    def end_others():
        answers.append(service_client.post("/login/sessions/end-others",
                                           headers={"X-CSRF-Token": csrf,
                                                    "Accept": "application/json"}))

    def create_then_end_others(*args, **kwargs):
        made = create(*args, **kwargs)
        thread = threading.Thread(target=end_others)
        thread.start()
        thread.join()
        return made

    monkeypatch.setattr(store.sessions, "create", create_then_end_others)
    response = _log_in(phone, "alice")
    assert response.status_code == 302 and phone.get_cookie("login") is not None
    token = phone.get_cookie("login").value
    assert [(a.status_code, a.json["ended"]) for a in answers] == [(200, 1)]
    monkeypatch.undo()
    assert phone.get("/login/sessions").status_code == 401, "the phone's session was ended"
    assert service_client.get("/login/sessions").status_code == 200, "the laptop stays in"
    clock.advance(1)
    assert interface.authenticate(token).user is None, "and every client refuses it"


def test_a_storm_of_logins_and_end_others_never_answers_500(service, service_client, login):
    login("alice")
    csrf = service_client.get("/login/sessions").json["csrf_token"]
    phones = [service.test_client() for _ in range(4)]
    forms = [csrf_from(phone.get("/login/test/").text) for phone in phones]
    barrier, statuses, errors = threading.Barrier(8), [], []

    def run(request):
        barrier.wait()
        try:
            statuses.append(request().status_code)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    requests = [lambda p=p, f=f: p.post("/login/test/", data={"username": "alice",
                                                              "csrf_token": f})
                for p, f in zip(phones, forms, strict=True)]
    requests += [lambda: service_client.post("/login/sessions/end-others",
                                             headers={"X-CSRF-Token": csrf,
                                                      "Accept": "application/json"})] * 4
    threads = [threading.Thread(target=run, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(statuses) == [200] * 4 + [302] * 4
    assert service_client.get("/login/sessions").status_code == 200
    listed = len(service_client.get("/login/sessions").json["sessions"])
    still_in = [phone.get("/login/sessions").status_code for phone in phones]
    assert set(still_in) <= {200, 401} and listed == 1 + still_in.count(200)


def test_a_user_removed_while_logging_in_gets_a_409_and_no_session(
        service, service_client, monkeypatch):
    store = service.extensions["flask_modular_login"].store
    login = store.accounts.login

    def login_then_remove(*args, **kwargs):
        user = login(*args, **kwargs)
        store.sessions.revoke_user(user.id, "user_removed", 0)
        store.accounts.delete(user.id)
        return user

    monkeypatch.setattr(store.accounts, "login", login_then_remove)
    response = _log_in(service_client, "alice")
    assert response.status_code == 409 and "removed" in response.text
    assert service_client.get_cookie("login") is None
