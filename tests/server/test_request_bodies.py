"""Bad request bodies (JSON that is no object or nests too deep, forms that are no UTF-8) get a
400 with a message on every POST route of the login service, and change nothing."""

from __future__ import annotations

import flask
import pytest

from tests.support.routes import database, every_request

SAMPLE_VALUES = {"code": "x" * 32}
DEPTH = 30_000  # nests far deeper than any parser's recursion, yet under the 64 KB limit

BAD_JSON = {
    "list": "[1]",
    "number": "123",
    "string": '"x"',
    "null": "null",
    "deep_list": "[" * DEPTH + "]" * DEPTH,
    "deep_object": '{"a":' * (DEPTH // 3) + "1" + "}" * (DEPTH // 3),
    "repeated_key": '{"handle": "0123456789ab", "handle": "ba9876543210"}',
}
BAD_FORMS = {
    "escaped_ff": b"handle=%FF&next=%FF&username=%FF&provider=%FF&code=%FF",
    "escaped_overlong": b"username=%C0%AF",
    "raw_bytes": b"handle=\xff\xfe&username=\xff",
    "bad_name": b"%FF=1",
}


def post_routes(app: flask.Flask) -> list[str]:
    return sorted(url for _method, url, _endpoint in every_request(app, SAMPLE_VALUES, {"POST"}))


@pytest.fixture
def alice(service, service_client, login):
    login("alice")
    csrf = service_client.get("/login/sessions").json["csrf_token"]
    return service_client, csrf


def test_every_post_route_is_walked(service):
    assert {"/login/test/", "/login/logout", "/login/sessions/end", "/login/sessions/end-others",
            "/login/identities/link", "/login/identities/unlink", "/login/access/invite",
            "/login/access/code", "/login/access/remove", "/login/access/renege",
            "/login/access/accept/" + "x" * 32} <= set(post_routes(service))


def assert_refused_and_unchanged(service, client, send) -> None:
    before = database(service)
    problems = {}
    for path in post_routes(service):
        response = send(client, path)
        message = response.json.get("message") if response.is_json else response.text
        json_ok = not response.is_json or response.json.get("error") == "bad_request"
        if response.status_code != 400 or not message or not json_ok:
            problems[path] = (response.status_code, response.text[:200])
    assert problems == {}
    assert database(service) == before, "a refused request wrote something"
    still = client.get("/login/sessions")
    assert still.status_code == 200 and still.json["user"]["name"] == "alice"


@pytest.mark.parametrize("raw", BAD_JSON.values(), ids=BAD_JSON.keys())
def test_json_that_is_no_object_or_nests_too_deep_is_400(service, alice, raw):
    client, csrf = alice

    def send(client, path):
        response = client.post(path, data=raw, content_type="application/json",
                               headers={"X-CSRF-Token": csrf})
        assert response.is_json, (path, response.text[:200])
        return response

    assert_refused_and_unchanged(service, client, send)


@pytest.mark.parametrize("raw", BAD_FORMS.values(), ids=BAD_FORMS.keys())
@pytest.mark.parametrize("token_in", ["header", "form"])
def test_forms_that_are_no_utf8_are_400(service, alice, raw, token_in):
    client, csrf = alice

    def send(client, path):
        headers = {"X-CSRF-Token": csrf} if token_in == "header" else {}
        body = raw if token_in == "header" else raw + b"&csrf_token=" + csrf.encode()
        response = client.post(path, data=body, headers=headers,
                               content_type="application/x-www-form-urlencoded")
        text = response.json["message"] if response.is_json else response.text
        assert "UTF-8" in text, (path, response.status_code, text[:200])
        return response

    assert_refused_and_unchanged(service, client, send)


def test_bodies_of_other_kinds_are_400(service, alice):
    client, csrf = alice

    def send(client, path):
        return client.post(path, data=b"handle=0123456789ab", content_type="text/plain",
                           headers={"X-CSRF-Token": csrf})

    assert_refused_and_unchanged(service, client, send)


def test_good_bodies_still_work(service, alice, interface):
    client, csrf = alice
    response = client.post("/login/sessions/end-others", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 302
    page = client.post("/login/sessions/end-others", json={}, headers={"X-CSRF-Token": csrf})
    assert page.status_code == 200 and page.json["ended"] == 0
    form = client.post("/login/logout", data={"csrf_token": csrf, "next": "/login/"})
    assert form.status_code == 302 and form.location.endswith("/login/")
    assert client.get("/login/sessions").status_code == 401
