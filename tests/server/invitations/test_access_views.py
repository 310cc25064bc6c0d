"""Invitation views: create, accept (link, QR, short code), errors with statuses and codes,
escalation refused, bad input, CSRF, the redemption race, the hand-off to a phone
(SECURITY.md 7-10, 15-17)."""

from __future__ import annotations

import json
import re
import threading
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.invitations import Grant, Removal
from flask_modular_login.server import urls
from flask_modular_login.server.invitations import accept, qr
from flask_modular_login.server.invitations.ratelimit import RateLimiter
from tests.conftest import csrf_from
from tests.support.access import (
    CHAT,
    JSON,
    Browser,
    People,
    accept_path,
    access_of,
    chat_world,
    invite,
    png_matrix,
)

DAY = 86_400


@pytest.fixture
def world(service, people, clock) -> People:
    chat_world(service, people, clock.now)
    return people


def invites_of(service, browser: Browser) -> list:
    return access_of(service).invites_by(browser.id)


# -- create ----------------------------------------------------------------------------------


def test_invite_form_lists_only_groups_the_user_may_invite_to(world):
    assert [g["group"] for g in world["olivia"].get_json("/login/access/invite").json["groups"]] \
        == ["chat"]
    listing = world["alice"].get_json("/login/access/invite").json
    assert listing["groups"] == [{"group": "chat", "grant": {
        "expires": None, "spots": 5, "depth": 2, "removal": "invited", "deplete": False}}]
    assert world["nobody"].get_json("/login/access/invite").json["groups"] == []
    page = world["alice"].client.get("/login/access/view/invite").text
    assert 'action="/login/access/view/invite"' in page and csrf_from(page)


def test_create_shows_the_link_short_code_and_a_qr_of_exactly_the_link(service, world):
    created = invite(world["alice"], accepts=2, spots=1, depth=1, access_for=DAY)
    url = created["url"]
    assert url == f"http://localhost/login/access/accept/{created['code']}"
    assert len(created["code"]) >= 32 and re.fullmatch(r"[2-9A-Z]{8}", created["short_code"])
    assert png_matrix(created["qr_png"]) == qr.matrix(url)
    assert created["qr_svg"] == qr.svg(url)
    [stored] = invites_of(service, world["alice"])
    assert stored.id == created["invite"] and stored.terms.access_for == DAY
    assert created["code"] not in json.dumps(world["alice"].get_json("/login/access/renege").json)


def test_the_html_form_creates_and_shows_the_invite_once(service, world):
    alice = world["alice"]
    response = alice.post_form("/login/access/view/invite",
                               {"group": "chat", "accepts": "3", "spots": "0", "depth": "0",
                                "accept_for": "3600", "access_for": "", "removal": "none"})
    assert response.status_code == 303, "post/redirect/get"
    [stored] = invites_of(service, alice)
    assert response.location == f"/login/access/view/invite/created?invite={stored.id}"
    shown = alice.client.get(response.location)
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    url = re.search(r'id="invite-url" href="([^"]+)"', shown.text).group(1)
    short = "".join(re.search(r'id="short-code"><span>(\w{4})</span><span>(\w{4})</span>',
                              shown.text).groups())
    assert access_of(service).invite(url.rsplit("/", 1)[1]).id == stored.id
    assert access_of(service).invite_id_for_short_code(short) == stored.id
    assert "<svg" in shown.text and 'href="data:image/png;base64,' in shown.text
    assert stored.terms.accepts == 3 and stored.terms.accept_by == alice_now(service) + 3600
    again = alice.client.get(response.location)
    assert again.status_code == 200 and "shown already" in again.text and url not in again.text


def alice_now(service) -> int:
    return service.extensions["flask_modular_login"].authority.now()


@pytest.mark.parametrize("fields, code, field", [
    ({"depth": 2}, "exceeds_depth", "depth"),
    ({"depth": None}, "exceeds_depth", "depth"),
    ({"spots": 6}, "exceeds_spots", "spots"),
    ({"accepts": None}, "exceeds_spots", "accepts"),
    ({"accepts": 6}, "exceeds_spots", "accepts"),
    ({"removal": "any_below"}, "exceeds_removal", "removal"),
    ({"group": "other"}, "outside_group", "group"),
    ({"group": "chatter"}, "outside_group", "group"),
])
def test_inviting_above_ones_limits_is_refused_and_stores_nothing(service, world, fields, code,
                                                                  field):
    response = world["alice"].post_json("/login/access/invite", {"group": "chat", **fields})
    assert response.status_code == 403, response.text
    assert response.json["error"] == code and response.json["field"] == field
    assert invites_of(service, world["alice"]) == []


def test_a_member_of_a_subgroup_cannot_invite_above_it_nor_past_their_expiry(service, world,
                                                                             clock):
    carol = world["carol"]
    access_of(service).add_member(CHAT / "x", carol.id, int(clock.now),
                                  Grant(expires=clock.now + DAY, spots=3, depth=1))
    above = carol.post_json("/login/access/invite", {"group": "chat"})
    assert above.status_code == 403 and above.json["error"] == "outside_group"
    later = carol.post_json("/login/access/invite",
                            {"group": "chat/x", "access_expires": clock.now + 2 * DAY})
    assert later.status_code == 403 and later.json["error"] == "exceeds_expiry"
    late_accept = carol.post_json("/login/access/invite",
                                  {"group": "chat/x", "accept_for": 2 * DAY})
    assert late_accept.json["error"] == "exceeds_expiry"
    assert invites_of(service, carol) == []
    below = invite(carol, group="chat/x/y")
    assert below["terms"]["accept_by"] == clock.now + DAY, "default capped by carol's access"


def test_a_member_who_cannot_reshare_cannot_invite(service, world):
    bob = world["bob"]
    joined = bob.post_json(accept_path(invite(world["alice"])), {})
    assert joined.status_code == 200
    response = bob.post_json("/login/access/invite", {"group": "chat"})
    assert response.status_code == 403 and response.json["error"] == "exceeds_depth"


@pytest.mark.parametrize("redirect", ["https://evil.com/x", "//evil.com", "/\\evil.com",
                                      "https:evil.com", "%2F%2Fevil.com", "javascript:alert(1)"])
def test_redirects_outside_the_allowlist_are_refused(service, world, redirect):
    response = world["alice"].post_json("/login/access/invite",
                                        {"group": "chat", "redirect": redirect})
    assert response.status_code == 400 and response.json["field"] == "redirect"
    assert invites_of(service, world["alice"]) == []


# -- accept ----------------------------------------------------------------------------------


def test_accept_page_shows_the_grant_and_joins_only_when_asked(service, world):
    created = invite(world["alice"], spots=1, depth=1, removal="invited")
    bob = world["bob"]
    page = bob.client.get(accept_path(created))
    assert page.status_code == 200 and "<strong>alice</strong> invites you" in page.text
    assert ".submit()" not in page.text and "<script>" not in page.text
    assert "Join chat</button>" in page.text and "Not now</a>" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    preview = bob.get_json(accept_path(created)).json
    assert preview["grant"] == {"expires": None, "spots": 1, "depth": 1, "removal": "invited",
                                "deplete": False}
    assert access_of(service).membership(bob.id, CHAT) is None, "GET changes nothing"
    joined = bob.client.post(accept_path(created), data={"csrf_token": csrf_from(page.text)})
    assert joined.status_code == 302
    assert joined.location == "/login/access/view/groups?joined=chat"
    member = access_of(service).membership(bob.id, CHAT)
    assert member.grant == Grant(spots=1, depth=1, removal=Removal.INVITED)
    assert member.inviters[0] == world["alice"].id
    assert "You joined <strong>chat</strong>" in bob.client.get(joined.location).text


def test_confirmation_step(service, world):
    created = invite(world["alice"], confirm=True, redirect="/login/view/sessions")
    bob = world["bob"]
    page = bob.client.get(accept_path(created)).text
    assert 'name="confirmed" value="yes"' in page
    refused = bob.post_json(accept_path(created), {})
    assert refused.status_code == 400 and refused.json["error"] == "confirmation_required"
    assert access_of(service).membership(bob.id, CHAT) is None
    joined = bob.post_json(accept_path(created), {"confirmed": True})
    assert joined.status_code == 200 and joined.json["redirect"] == "/login/view/sessions"
    assert joined.json["joined"] == "chat"


def test_accepting_redirects_to_the_invites_allowlisted_redirect(world):
    created = invite(world["alice"], redirect="http://localhost:5000/chat/room?x=1")
    response = world["bob"].post_form(accept_path(created), {})
    assert response.status_code == 302
    assert response.location == "http://localhost:5000/chat/room?x=1"


def _expire(service, clock, world, created):
    clock.advance(8 * DAY)


def _use_up(service, clock, world, created):
    assert world["carol"].post_json(accept_path(created), {}).status_code == 200


def _revoke(service, clock, world, created):
    assert world["alice"].post_json("/login/access/renege",
                                    {"invite": created["invite"]}).status_code == 200


def _join_first(service, clock, world, created):
    access_of(service).add_member(CHAT, world["bob"].id, int(clock.now), Grant(spots=1, depth=1))


def _inviter_removed(service, clock, world, created):
    access_of(service).remove_member(CHAT, world["alice"].id, int(clock.now))


@pytest.mark.parametrize("setup, who, status, code", [
    (_expire, "bob", 410, "expired"),
    (_use_up, "bob", 409, "used_up"),
    (_revoke, "bob", 410, "revoked"),
    (_join_first, "bob", 409, "already_member"),
    (_inviter_removed, "bob", 410, "revoked"),
    (None, "alice", 403, "self_invite"),
])
def test_redeem_errors_have_their_status_and_code(service, clock, world, setup, who, status,
                                                  code):
    created = invite(world["alice"], accepts=1)
    if setup:
        setup(service, clock, world, created)
    browser = world[who]
    before = access_of(service).membership(browser.id, CHAT)
    for response in (browser.get_json(accept_path(created)),
                     browser.post_json(accept_path(created), {})):
        assert response.status_code == status, response.text
        assert response.json["error"] == code and response.json["message"]
    page = browser.client.get(accept_path(created))
    assert page.status_code == status and "<h1>" in page.text
    assert access_of(service).membership(browser.id, CHAT) == before
    assert access_of(service).invite(created["code"]).state.uses == (1 if setup is _use_up else 0)


@pytest.mark.parametrize("code", ["x" * 32, "short", "a" * 65, "..%2F..", "abc$def" * 5])
def test_unknown_or_malformed_codes_are_404(world, code):
    bob = world["bob"]
    for response in (bob.get_json(f"/login/access/accept/{code}"),
                     bob.post_json(f"/login/access/accept/{code}", {})):
        assert response.status_code == 404 and response.json["error"] == "not_found"


def test_logged_out_accept_asks_for_login_and_comes_back(world, service):
    created = invite(world["alice"])
    stranger = service.test_client()
    page = stranger.get(accept_path(created))
    assert page.status_code == 302
    assert page.location == "/login/?next=" + accept_path(created)
    api = stranger.get(accept_path(created), headers=JSON)
    assert api.status_code == 401 and api.json["error"] == "login_required"


# -- the hand-off: desktop creates, phone scans, logs in, accepts, continues -----------------


def test_hand_off_from_desktop_to_phone(service, world):
    desktop = world["alice"]
    posted = desktop.post_form("/login/access/view/invite", {
        "group": "chat", "redirect": "http://localhost:5000/chat/welcome"})
    created = desktop.client.get(posted.location)
    assert created.status_code == 200
    png = re.search(r'href="(data:image/png;base64,[^"]+)"', created.text).group(1)
    url = re.search(r'id="invite-url" href="([^"]+)"', created.text).group(1)
    assert png_matrix(png) == qr.matrix(url), "the QR code is the link and only the link"
    phone = service.test_client()
    bounced = phone.get(url)
    login_page = phone.get(bounced.location)
    provider = re.search(r'href="(/login/test/[^"]+)"', login_page.text).group(1)
    form = phone.get(provider.replace("&amp;", "&"))
    logged_in = phone.post("/login/test/", data={"username": "phone-user",
                                                 "csrf_token": csrf_from(form.text)})
    assert logged_in.status_code == 302 and logged_in.location == urlsplit(url).path
    page = phone.get(logged_in.location)
    assert page.status_code == 200 and "Join" in page.text
    joined = phone.post(logged_in.location, data={"csrf_token": csrf_from(page.text)})
    assert joined.status_code == 302
    assert joined.location == "http://localhost:5000/chat/welcome"
    phone_user = phone.get("/login/", headers=JSON).json["user"]["id"]
    assert access_of(service).membership(phone_user, CHAT) is not None


# -- short codes -----------------------------------------------------------------------------


def test_short_code_shows_the_invite_then_joins(service, world):
    created = invite(world["alice"], accepts=2, redirect="/login/view/sessions")
    bob = world["bob"]
    typed = created["short_code"].lower()[:4] + "-" + created["short_code"][4:]
    page = bob.post_form("/login/access/view/code", {"code": typed})
    assert page.status_code == 200 and 'action="/login/access/view/code"' in page.text
    assert f'name="code" value="{created["short_code"]}"' in page.text
    assert access_of(service).membership(bob.id, CHAT) is None
    joined = bob.post_form("/login/access/view/code",
                           {"code": created["short_code"], "join": "yes"})
    assert joined.status_code == 302 and joined.location == "/login/view/sessions"
    assert access_of(service).membership(bob.id, CHAT) is not None
    again = bob.post_json("/login/access/code", {"code": created["short_code"], "join": True})
    assert again.status_code == 409 and again.json["error"] == "already_member"


def test_short_codes_are_rate_limited_per_user_and_per_ip(service, world, clock, login):
    created = invite(world["alice"])
    bob = world["bob"]
    wrong = [bob.post_json("/login/access/code", {"code": "ZZZZZZZZ"}) for _ in range(10)]
    assert [r.status_code for r in wrong] == [404] * 10
    limited = bob.post_json("/login/access/code", {"code": created["short_code"]})
    assert limited.status_code == 429 and limited.json["error"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) == 600
    others = [Browser(service, login, f"u{i}") for i in range(3)]  # same IP as bob
    statuses = [o.post_json("/login/access/code", {"code": "ZZZZZZZZ"}).status_code
                for o in others for _ in range(7)]
    assert statuses == [404] * 20 + [429], "30 tries per IP, whoever tries"
    clock.advance(600)
    found = bob.post_json("/login/access/code", {"code": created["short_code"]})
    assert found.status_code == 200 and found.json["group"] == "chat"


def test_one_user_alone_cannot_lock_out_their_ip(service, world, login):
    bob = world["bob"]
    statuses = [bob.post_json("/login/access/code", {"code": "ZZZZZZZZ"}).status_code
                for _ in range(40)]
    assert statuses == [404] * 10 + [429] * 30, "bob's refused tries spend none of the IP's"
    carol = Browser(service, login, "carol")  # same IP as bob
    assert [carol.post_json("/login/access/code", {"code": "ZZZZZZZZ"}).status_code
            for _ in range(10)] == [404] * 10


def test_new_accounts_from_one_ip_cannot_fill_the_limiter_and_lock_everyone_out(
        service, world, login, clock):
    """The per-IP limit is checked before a user is counted: accounts beyond it add nothing."""
    service.extensions[accept.LIMITERS] = (RateLimiter(10, 600, clock=clock, max_keys=4),
                                                 RateLimiter(3, 600, clock=clock))
    sybils = [Browser(service, login, f"sybil{i}", ip="10.0.0.66") for i in range(8)]
    statuses = [s.post_json("/login/access/code", {"code": "ZZZZZZZZ"}).status_code
                for s in sybils]
    assert statuses == [404] * 3 + [429] * 5
    honest = Browser(service, login, "honest", ip="10.0.0.7")
    assert honest.post_json("/login/access/code", {"code": "ZZZZZZZZ"}).status_code == 404


def test_ipv6_clients_are_counted_per_64_prefix(service, world, login):
    """One IPv6 host holds a whole /64: every address in it is the same client."""
    tries = [Browser(service, login, f"v6user{i}", ip=f"2001:db8:1:2::{i:x}").post_json(
        "/login/access/code", {"code": "ZZZZZZZZ"}).status_code for i in range(31)]
    assert tries == [404] * 30 + [429]
    other = Browser(service, login, "v6other", ip="2001:db8:1:3::1")
    assert other.post_json("/login/access/code", {"code": "ZZZZZZZZ"}).status_code == 404


def test_malformed_short_codes_are_400(world):
    for code in ["", "ABC", "ZZZZZZZZZ", "ZZZZZZZ1", 12345678, None]:
        response = world["bob"].post_json("/login/access/code", {"code": code})
        assert response.status_code == 400 and response.json["field"] == "code"


# -- request hygiene -------------------------------------------------------------------------

POSTS = sorted({rule for rule, _endpoint, _view, method in urls.RULES
                if method == "POST" and rule.startswith("/access/")})


@pytest.mark.parametrize("path", POSTS)
def test_every_post_needs_the_csrf_token(service, world, path):
    created = invite(world["alice"])
    path = "/login" + path.replace("<code>", created["code"])
    bob = world["bob"]
    before = (len(access_of(service).members(CHAT, subtree=True)),
              len(access_of(service).invites_for(CHAT, subtree=True)))
    body = {"group": "chat", "user": bob.id, "invite": created["invite"],
            "code": created["short_code"], "join": "yes"}
    for client_kwargs in ({"data": body}, {"json": body},
                          {"data": {**body, "csrf_token": bob.csrf},
                           "headers": {"Origin": "https://evil.com"}}):
        response = bob.client.post(path, **client_kwargs)
        assert response.status_code == 400, (path, response.text)
    after = (len(access_of(service).members(CHAT, subtree=True)),
             len(access_of(service).invites_for(CHAT, subtree=True)))
    assert after == before
    assert not access_of(service).invite(created["code"]).state.revoked


@pytest.mark.parametrize("raw", [
    "NaN", '{"group": "chat", "spots": NaN}', '{"group": "chat", "accept_by": Infinity}',
    '{"group": "chat", "accept_by": 1e400}', '{"group": "chat", "spots": 1' + "0" * 400 + "}",
    '{"group": "chat", "spots": -1}', '{"group": "chat", "spots": "3"}', '{"group": "chat",',
    '["chat"]', '"chat"', "null", '{"group": {"$ne": 1}}', '{"group": "chat", "is_admin": true}',
    '{"group": "chat\\u0000"}', '{"group": "chat", "removal": "ANY_BELOW"}',
    '{"group": "chat", "accept_by": 1}', '{"group": "chat", "access_expires": 1}',
])
def test_bad_invite_bodies_are_400_and_change_nothing(service, world, raw):
    alice = world["alice"]
    response = alice.client.post("/login/access/invite", data=raw, content_type="application/json",
                                 headers={"X-CSRF-Token": alice.csrf})
    assert response.status_code == 400, response.text
    assert response.json["error"] in ("bad_request", "bad_value") and response.json["message"]
    assert invites_of(service, alice) == []


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(
    st.sampled_from(sorted({"group", "accepts", "spots", "depth", "accept_by", "accept_for",
                            "access_expires", "access_for", "removal", "confirm", "deplete",
                            "redirect", "other"})),
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.lists(st.integers(), max_size=2), max_size=6))
def test_random_invite_bodies_never_500(service, world, body):
    response = world["alice"].post_json("/login/access/invite", body)
    assert response.status_code in (201, 400, 403), response.text
    assert response.is_json


def test_html_refusals_are_pages_not_500(service, world):
    alice = world["alice"]
    response = alice.post_form("/login/access/view/invite", {"group": "chat", "spots": "lots"})
    assert response.status_code == 400 and "spots" in response.text and "<h1>" in response.text
    escalation = alice.post_form("/login/access/view/invite", {"group": "chat", "depth": "7"})
    assert escalation.status_code == 403 and "depth" in escalation.text


# -- the race --------------------------------------------------------------------------------


def test_concurrent_accepts_through_the_views_make_exactly_k_members(service, world, login):
    created = invite(world["alice"], accepts=3)
    browsers = [Browser(service, login, f"racer{i}") for i in range(10)]
    tokens = [b.csrf for b in browsers]
    barrier = threading.Barrier(len(browsers))
    statuses: list[int] = []

    def accept(browser: Browser, token: str) -> None:
        barrier.wait()
        response = browser.client.post(accept_path(created), json={},
                                       headers={"X-CSRF-Token": token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=accept, args=pair)
               for pair in zip(browsers, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 3 + [409] * 7
    members = {m.user_id for m in access_of(service).members(CHAT)}
    assert len(members & {b.id for b in browsers}) == 3
    assert access_of(service).invite(created["code"]).state.uses == 3
    assert access_of(service).membership(world["alice"].id, CHAT).grant.spots == 5 - 3


def test_groups_page_lists_what_the_user_holds(world):
    groups = world["olivia"].get_json("/login/access/groups").json["groups"]
    assert groups == [{"group": "chat", "owner": True, "active": True, "can_invite": True,
                       "grant": {"expires": None, "spots": None, "depth": None,
                                 "removal": "any_below", "deplete": False}}]
    assert world["alice"].client.get("/login/access/view/groups").status_code == 200
    assert GroupPath.parse(world["alice"].get_json("/login/access/groups")
                           .json["groups"][0]["group"]) == CHAT
