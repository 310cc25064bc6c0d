"""The security log: one ``key=value`` line per event on ``flask_modular_login.security``,
never a cookie, lease, invite code, OAuth code or state, CSRF token or client secret."""

from __future__ import annotations

import logging

import pytest

from flask_modular_login.ops import security_log
from flask_modular_login.ops.security_log import line
from tests.support.access import CHAT, People, accept_path, access_of, invite
from tests.support.logs import CODE, OAUTH_CODE, OAUTH_STATE
from tests.support.ops import REFUSED_CALLBACK, ops_service

SECURITY = "flask_modular_login.security"


@pytest.fixture
def service(run_dir, clock):
    return ops_service(run_dir, clock)


@pytest.fixture
def security(caplog) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger=SECURITY)
    return caplog


def events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == SECURITY]


def test_each_security_event_is_one_line_without_secrets(service, service_client, login,
                                                        security, clock):
    people = People(service, login)
    token = login("alice")
    refused = service_client.get(REFUSED_CALLBACK)
    assert refused.status_code in (400, 403)
    access_of(service).ensure_group(CHAT, int(clock()), owner=("test", "olivia"))
    created = invite(people["olivia"], accepts=1, spots=2, depth=1, removal="invited")
    assert people["bob"].post_json(accept_path(created), {}).status_code == 200
    removed = people["olivia"].post_json("/login/access/remove",
                                         {"group": "chat", "user": people["bob"].id})
    assert removed.status_code == 200, removed.text
    csrf = service_client.get("/login/sessions").json["csrf_token"]
    assert service_client.post("/login/logout", data={"csrf_token": csrf}).status_code < 400

    lines = events(security)
    kinds = [entry.split()[0] for entry in lines]
    for kind in ("login", "login_refused", "invite_created", "invite_redeemed",
                 "member_removed", "logout"):
        assert f"event={kind}" in kinds, lines
    refused_line = next(x for x in lines if x.startswith("event=login_refused"))
    assert refused_line == "event=login_refused provider=github reason=login_not_started " \
                           "ip=127.0.0.1"
    login_line = next(x for x in lines if x.startswith("event=login "))
    assert "provider=test" in login_line and "ip=127.0.0.1" in login_line
    redeemed = next(x for x in lines if x.startswith("event=invite_redeemed"))
    assert f"user_id={people['bob'].id}" in redeemed and "group=chat" in redeemed
    text = "\n".join(lines)
    for secret in (token, created["code"], created["short_code"], OAUTH_CODE, OAUTH_STATE,
                   csrf, "gh-secret-42"):
        assert secret not in text
    assert all(r.levelno == logging.WARNING for r in security.records
               if r.name == SECURITY and "refused" in r.getMessage())


def test_ending_sessions_logs_their_handles(service, service_client, login, security):
    login("alice")
    other = service.test_client()
    login("alice", client=other)
    csrf = service_client.get("/login/sessions").json["csrf_token"]
    assert service_client.post("/login/sessions/end-others",
                               data={"csrf_token": csrf}).status_code < 400
    [ended] = [x for x in events(security) if x.startswith("event=session_ended")]
    assert "reason=ended_by_user" in ended and "handles=" in ended


@pytest.mark.parametrize("value, written", [
    ("plain", "plain"),
    (None, "-"),
    ("", "-"),
    ("two words", '"two words"'),
    ('say "hi"\nevent=login', '"say \\"hi\\"\\nevent=login"'),
    (["a1", "b2"], "a1,b2"),
])
def test_values_cannot_forge_another_field_or_line(value, written):
    assert line("login", ("user_id",), {"user_id": value}) == f"event=login user_id={written}"


def test_only_listed_arguments_are_written():
    assert line("logout", ("user_id",), {"user_id": "u1", "session_id": "S" * 40,
                                          "token": CODE}) == "event=logout user_id=u1"


def test_connect_is_idempotent(service, service_client, login, security):
    security_log.connect()
    security_log.connect()
    login("carol")
    assert len([x for x in events(security) if x.startswith("event=login ")]) == 1
