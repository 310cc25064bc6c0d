"""Remove and renege views: only within the user's rights, even with crafted ids (no IDOR,
SECURITY.md 10); a revoked invite's link answers 410 (SECURITY.md 15)."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_from
from tests.support.access import CHAT, accept_path, access_of, chat_world, invite


@pytest.fixture
def world(service, people, clock) -> dict:
    """olivia owns chat; alice (may remove those she invites) invited bob (who may invite one
    more); olivia invited carol to chat and dave to chat/x; nobody has removal rights but
    olivia and alice. Open invites: alice's and bob's."""
    chat_world(service, people, clock.now)
    to_bob = invite(people["alice"], spots=1, depth=1)
    join(people["bob"], to_bob)
    join(people["carol"], invite(people["olivia"]))
    join(people["dave"], invite(people["olivia"], group="chat/x"))
    return {"people": people, "to_bob": to_bob, "by_alice": invite(people["alice"], accepts=3),
            "by_bob": invite(people["bob"])}


def join(browser, created) -> None:
    assert browser.post_json(accept_path(created), {}).status_code == 200


def removable(browser) -> set[tuple[str, str]]:
    listing = browser.get_json("/login/access/remove").json["members"]
    return {(m["group"], m["name"]) for m in listing}


def revocable(browser, world) -> set[str]:
    names = {world[name]["invite"]: name for name in ("to_bob", "by_alice", "by_bob")}
    return {names.get(i["invite"], "other") for i in
            browser.get_json("/login/access/renege").json["invites"]}


def test_each_user_sees_only_the_members_they_may_remove(world):
    people = world["people"]
    assert removable(people["alice"]) == {("chat", "alice"), ("chat", "bob")}
    assert removable(people["bob"]) == {("chat", "bob")}
    assert removable(people["carol"]) == {("chat", "carol")}
    assert removable(people["olivia"]) == {("chat", "alice"), ("chat", "bob"),
                                           ("chat", "carol"), ("chat/x", "dave")}


def test_removing_within_ones_rights(service, world):
    people = world["people"]
    alice, bob = people["alice"], people["bob"]
    page = alice.client.get("/login/access/view/remove").text
    assert page.count('<button class="danger"') == 2 and "Leave chat" in page
    assert "Remove bob from chat" in page
    response = alice.client.post("/login/access/view/remove", data={
        "group": "chat", "user": bob.id, "csrf_token": csrf_from(page)})
    assert response.status_code == 302 and response.location == "/login/access/view/remove"
    assert access_of(service).membership(bob.id, CHAT) is None
    assert "Member removed." in alice.client.get(response.location).text
    olivia = people["olivia"]
    gone = olivia.post_json("/login/access/remove", {"group": "chat/x", "user": people["dave"].id})
    assert gone.status_code == 200 and gone.json["removed"]["group"] == "chat/x"


@pytest.mark.parametrize("remover, group, target", [
    ("alice", "chat", "carol"),      # a peer alice did not invite
    ("alice", "chat/x", "dave"),     # in a subgroup, but INVITED covers only her invitees
    ("alice", "chat", "olivia"),     # the owner holds no membership row
    ("bob", "chat", "alice"),        # bob has no removal rights, and alice is above him
    ("carol", "chat", "bob"),
    ("dave", "chat", "carol"),       # outside dave's group
    ("alice", "chat/x", "bob"),      # crafted: bob's membership is not on chat/x
])
def test_removing_outside_ones_rights_is_404_and_changes_nothing(service, world, remover, group,
                                                                 target):
    people = world["people"]
    before = access_of(service).members(CHAT, subtree=True)
    response = people[remover].post_json("/login/access/remove",
                                         {"group": group, "user": people[target].id})
    assert response.status_code == 404 and response.json["error"] == "not_found"
    assert access_of(service).members(CHAT, subtree=True) == before


def test_anyone_may_leave(service, world):
    carol = world["people"]["carol"]
    left = carol.post_json("/login/access/remove", {"group": "chat", "user": carol.id})
    assert left.status_code == 200 and left.json["message"] == "You left."
    assert access_of(service).membership(carol.id, CHAT) is None


@pytest.mark.parametrize("body, field", [
    ({"group": "chat"}, "user"), ({"user": "abc"}, "group"), ({"group": "chat", "user": 5}, "user"),
    ({"group": "chat", "user": "../x"}, "user"), ({"group": "a//b", "user": "abc"}, "group"),
    ({"group": "chat", "user": "abc", "force": True}, "force"),
])
def test_bad_remove_bodies_are_400(service, world, body, field):
    response = world["people"]["olivia"].post_json("/login/access/remove", body)
    assert response.status_code == 400 and response.json["field"] == field


def test_each_user_sees_only_the_invites_they_may_revoke(world):
    people = world["people"]
    assert revocable(people["alice"], world) == {"to_bob", "by_alice", "by_bob"}
    assert revocable(people["bob"], world) == {"by_bob"}
    assert revocable(people["carol"], world) == set()
    assert revocable(people["dave"], world) == set()
    assert {"to_bob", "by_alice", "by_bob", "other"} == revocable(people["olivia"], world)


@pytest.mark.parametrize("who, which", [
    ("carol", "by_alice"), ("bob", "by_alice"), ("dave", "by_bob"), ("carol", "by_bob"),
])
def test_reneging_outside_ones_rights_is_404_and_the_invite_lives(service, world, who, which):
    created = world[which]
    response = world["people"][who].post_json("/login/access/renege",
                                              {"invite": created["invite"]})
    assert response.status_code == 404 and response.json["error"] == "not_found"
    assert not access_of(service).invite(created["code"]).state.revoked


def test_reneging_kills_the_link_the_short_code_and_the_qr(service, world):
    people = world["people"]
    created = world["by_bob"]
    page = people["alice"].client.get("/login/access/view/renege").text
    response = people["alice"].client.post("/login/access/view/renege", data={
        "invite": created["invite"], "csrf_token": csrf_from(page)})
    assert response.status_code == 302 and response.location == "/login/access/view/renege"
    erin = people["erin"]
    for answer in (erin.get_json(accept_path(created)),
                   erin.post_json(accept_path(created), {}),
                   erin.post_json("/login/access/code", {"code": created["short_code"]})):
        assert answer.status_code == 410 and answer.json["error"] == "revoked"
    again = people["alice"].post_json("/login/access/renege", {"invite": created["invite"]})
    assert again.status_code == 409 and again.json["error"] == "already_revoked"
    assert revocable(people["bob"], world) == set(), "revoked invites leave the list"


def test_ids_are_not_codes_and_unknown_ids_are_404(world):
    people = world["people"]
    created = world["by_alice"]
    as_code = people["carol"].post_json(f"/login/access/accept/{created['invite']}", {})
    assert as_code.status_code == 404, "an invite id cannot be redeemed"
    unknown = people["olivia"].post_json("/login/access/renege", {"invite": "0" * 64})
    assert unknown.status_code == 404
    for bad in ("0" * 63, "G" * 64, created["code"], 7, None):
        response = people["olivia"].post_json("/login/access/renege", {"invite": bad})
        assert response.status_code == 400 and response.json["field"] == "invite"


def test_listings_show_no_codes(world):
    people = world["people"]
    for browser in (people["olivia"], people["alice"]):
        text = browser.client.get("/login/access/view/renege").text
        text += str(browser.get_json("/login/access/renege").json)
        for created in (world["by_alice"], world["by_bob"]):
            assert created["code"] not in text and created["short_code"] not in text


def test_logged_out_views_ask_for_login(service):
    stranger = service.test_client()
    for page in ("remove", "renege", "invite", "code", "groups"):
        path = f"/login/access/view/{page}"
        response = stranger.get(path)
        assert response.status_code == 302 and response.location == f"/login/?next={path}"
    for path in ("/login/access/remove", "/login/access/renege", "/login/access/invite",
                 "/login/access/groups"):
        response = stranger.get(path)
        assert response.status_code == 401 and response.json["error"] == "login_required"
    posted = stranger.post("/login/access/code", json={"code": "ZZZZZZZZ"})
    assert posted.status_code == 400, "no CSRF token without a session: refused before login"
