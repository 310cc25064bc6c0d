"""Linked accounts through the login service: link from the sessions page, unlink (not the last)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_from
from tests.server.conftest import provider_url

pytestmark = pytest.mark.usefixtures("insecure_transport")


@pytest.fixture
def service(provider_service):
    return provider_service


def listing(browser):
    return browser.get("/login/sessions").json


def linked(browser):
    return [(i["provider"], i["subject"]) for i in listing(browser)["identities"]]


@pytest.fixture
def link(at_provider):
    """POST the link form of ``provider`` for the logged-in ``browser``; the callback's answer."""

    def do_link(browser, provider, login):
        csrf = listing(browser)["csrf_token"]
        start = browser.post("/login/identities/link", data={"provider": provider,
                                                             "csrf_token": csrf})
        assert start.status_code == 303, start.text
        return browser.get(at_provider(provider_url(start), provider, login))

    return do_link


def unlink(browser, provider, subject, **headers):
    csrf = listing(browser)["csrf_token"]
    return browser.post("/login/identities/unlink", headers=headers,
                        data={"provider": provider, "subject": subject, "csrf_token": csrf})


def test_sessions_page_lists_linked_accounts_and_providers_to_link(service_client,
                                                                    provider_login):
    provider_login(service_client, "oidc.alpha", "alice")
    body = listing(service_client)
    assert [(i["provider"], i["subject"]) for i in body["identities"]] == [("oidc.alpha", "alice")]
    assert body["linkable"] == ["nodeoauth", "oidc.alpha", "oidc.beta"]
    page = service_client.get("/login/view/accounts").text
    assert "Linked accounts" in page and 'value="oidc.beta"' in page
    assert "Link Beta (OpenID Connect)" in page and "Alpha (OpenID Connect)" in page
    assert 'value="oidc.alpha"' not in page, "a linked provider is not offered again"
    assert "Unlink" not in page, "the only account offers no unlink button"


def test_link_a_second_provider_then_log_in_with_either(service, service_client,
                                                        provider_login, link, interface):
    provider_login(service_client, "oidc.alpha", "alice")
    user_id = listing(service_client)["user"]["id"]
    done = link(service_client, "oidc.beta", "alice-at-beta")
    assert done.status_code == 302 and done.location == "/login/view/accounts"
    assert "Beta (OpenID Connect) linked" in service_client.get("/login/view/accounts").text
    assert linked(service_client) == [("oidc.alpha", "alice"), ("oidc.beta", "alice-at-beta")]

    for provider, login in (("oidc.beta", "alice-at-beta"), ("oidc.alpha", "alice")):
        other = service.test_client()
        provider_login(other, provider, login)
        assert listing(other)["user"]["id"] == user_id


def test_link_through_the_oauth2_path(service_client, provider_login, link):
    provider_login(service_client, "oidc.alpha", "bea")
    assert link(service_client, "nodeoauth", "bea").status_code == 302
    assert ("nodeoauth", "bea") in linked(service_client)


def test_linking_keeps_the_session(service_client, provider_login, link):
    provider_login(service_client, "oidc.alpha", "cleo")
    lease = service_client.get_cookie("login").value
    link(service_client, "oidc.beta", "cleo")
    assert service_client.get_cookie("login").value == lease


def test_an_identity_of_another_user_is_refused(service, service_client, provider_login, link):
    bob = service.test_client()
    provider_login(bob, "oidc.beta", "bob")
    provider_login(service_client, "oidc.alpha", "alice")
    refused = link(service_client, "oidc.beta", "bob")
    assert refused.status_code == 409 and "belongs to another user" in refused.text
    assert linked(service_client) == [("oidc.alpha", "alice")]
    assert linked(bob) == [("oidc.beta", "bob")]


def test_linking_the_identity_already_linked_is_harmless(service_client, provider_login, link):
    provider_login(service_client, "oidc.alpha", "dora")
    assert link(service_client, "oidc.alpha", "dora").status_code == 302
    assert linked(service_client) == [("oidc.alpha", "dora")]


def test_link_needs_a_post_with_csrf_by_a_logged_in_user(service, service_client,
                                                         provider_login):
    assert service_client.get("/login/identities/link").status_code == 405
    anonymous = service.test_client()
    form = anonymous.get("/login/test/")
    response = anonymous.post("/login/identities/link", headers={"Accept": "application/json"},
                              data={"provider": "oidc.beta", "csrf_token": csrf_from(form.text)})
    assert response.status_code == 401
    provider_login(service_client, "oidc.alpha", "eve")
    assert service_client.post("/login/identities/link",
                               data={"provider": "oidc.beta"}).status_code == 400
    csrf = listing(service_client)["csrf_token"]
    for name in ("nope", "test", ""):
        response = service_client.post("/login/identities/link",
                                       data={"provider": name, "csrf_token": csrf})
        assert response.status_code == 400


def test_link_answers_json_for_ajax(service_client, provider_login):
    provider_login(service_client, "oidc.alpha", "fay")
    csrf = listing(service_client)["csrf_token"]
    response = service_client.post("/login/identities/link", json={"provider": "oidc.beta"},
                                   headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200 and response.json["location"].startswith("http://127.0.0.1")


def test_a_link_finished_after_logout_is_refused(service_client, provider_login, at_provider):
    provider_login(service_client, "oidc.alpha", "gus")
    csrf = listing(service_client)["csrf_token"]
    start = service_client.post("/login/identities/link",
                                data={"provider": "oidc.beta", "csrf_token": csrf})
    service_client.post("/login/logout", data={"csrf_token": csrf})
    callback = at_provider(provider_url(start), "oidc.beta", "gus")
    response = service_client.get(callback)
    assert response.status_code == 403 and "log in and start again" in response.text
    assert service_client.get_cookie("login") is None


def test_unlink_one_but_never_the_last(service_client, provider_login, link):
    provider_login(service_client, "oidc.alpha", "hal")
    link(service_client, "oidc.beta", "hal-b")
    page = service_client.get("/login/view/accounts").text
    ask = re.search(r'href="(/login/view/accounts/unlink\?provider=oidc.alpha[^"]+)"', page)
    confirm = service_client.get(ask.group(1).replace("&amp;", "&"))
    assert confirm.status_code == 200
    assert "Unlink your Alpha (OpenID Connect) account?" in confirm.text
    assert 'name="subject" value="hal"' in confirm.text
    assert linked(service_client) == [("oidc.alpha", "hal"), ("oidc.beta", "hal-b")], \
        "asking unlinks nothing"
    assert service_client.get("/login/view/accounts/unlink?provider=oidc.beta&subject=x"
                              ).status_code == 404

    done = unlink(service_client, "oidc.alpha", "hal")
    assert done.status_code == 302 and done.location == "/login/view/accounts"
    assert linked(service_client) == [("oidc.beta", "hal-b")]

    last = unlink(service_client, "oidc.beta", "hal-b")
    assert last.status_code == 409 and "link another one first" in last.text
    as_json = unlink(service_client, "oidc.beta", "hal-b", Accept="application/json")
    assert as_json.status_code == 409 and as_json.json["error"] == "identity_last"
    assert linked(service_client) == [("oidc.beta", "hal-b")]


def test_unlink_is_scoped_to_the_user_and_checked(service, service_client, provider_login):
    other = service.test_client()
    provider_login(other, "oidc.beta", "ida")
    provider_login(service_client, "oidc.alpha", "jo")
    assert unlink(service_client, "oidc.beta", "ida").status_code == 404
    assert linked(other) == [("oidc.beta", "ida")]
    csrf = listing(service_client)["csrf_token"]
    response = service_client.post("/login/identities/unlink",
                                   data={"provider": "oidc.alpha", "csrf_token": csrf})
    assert response.status_code == 400
    assert service_client.post("/login/identities/unlink",
                               data={"provider": "oidc.alpha", "subject": "jo"}).status_code == 400
    anonymous = service.test_client().post("/login/identities/unlink",
                                           headers={"Accept": "application/json"})
    assert anonymous.status_code in (400, 401)


def test_unlink_ends_other_sessions_started_through_that_provider(
        service, service_client, provider_login, link):
    provider_login(service_client, "oidc.beta", "kim-b")
    link(service_client, "oidc.alpha", "kim")
    through_alpha = service.test_client()
    provider_login(through_alpha, "oidc.alpha", "kim")
    through_beta = service.test_client()
    provider_login(through_beta, "oidc.beta", "kim-b")
    done = unlink(service_client, "oidc.alpha", "kim", Accept="application/json")
    assert done.json["ended"] == 1
    assert through_alpha.get("/login/sessions").status_code == 401, "locked out"
    assert through_beta.get("/login/sessions").status_code == 200
    assert service_client.get("/login/sessions").status_code == 200, "this session stays"
