"""The invitation pages as a person meets them: one invite, one place per person; a reload
makes no second invite; a preview before joining; look-alike characters in short codes
explained; "You joined" where it belongs; the invite form's presets and its errors next to
the fields."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from tests.conftest import csrf_from
from tests.support.access import CHAT, JSON, People, accept_path, access_of, chat_world, invite


@pytest.fixture
def world(service, people, clock) -> People:
    chat_world(service, people, clock.now)
    return people


def test_opening_the_link_twice_spends_one_place(service, world):
    created = invite(world["alice"], accepts=2)
    bob = world["bob"]
    page = bob.client.get(accept_path(created))
    first = bob.client.post(accept_path(created), data={"csrf_token": csrf_from(page.text),
                                                        "confirmed": "yes"})
    assert first.status_code == 302
    again = bob.client.get(accept_path(created))
    assert again.status_code == 409 and "<h1>You are already in this group</h1>" in again.text
    replay = bob.client.post(accept_path(created), data={"csrf_token": csrf_from(page.text)})
    assert replay.status_code == 409 and "no place was spent" in replay.text
    assert access_of(service).invite(created["code"]).state.uses == 1
    assert world["carol"].post_json(accept_path(created), {}).status_code == 200, \
        "the second place is still there for someone else"


def test_reloading_invite_created_makes_no_second_invite(service, world):
    alice = world["alice"]
    posted = alice.post_form("/login/access/view/invite", {"group": "chat", "preset": "member"})
    assert posted.status_code == 303
    first = alice.client.get(posted.location)
    assert first.status_code == 200 and 'id="invite-url"' in first.text
    for _ in range(2):
        reload = alice.client.get(posted.location)
        assert "This invite was shown already" in reload.text
        assert 'id="invite-url"' not in reload.text
    assert len(access_of(service).invites_by(alice.id)) == 1
    assert "shown already" in world["bob"].client.get(posted.location).text, \
        "another browser never sees it"


def test_two_tabs_each_show_their_own_invite(service, world):
    alice = world["alice"]
    one = alice.post_form("/login/access/view/invite", {"group": "chat"})
    two = alice.post_form("/login/access/view/invite", {"group": "chat"})
    urls = [re.search(r'id="invite-url" href="([^"]+)"', alice.client.get(p.location).text)
            .group(1) for p in (one, two)]
    ids = {access_of(service).invite(url.rsplit("/", 1)[1]).id for url in urls}
    assert ids == {i.id for i in access_of(service).invites_by(alice.id)} and len(ids) == 2


def test_the_accept_page_previews_and_offers_join_and_not_now(service, world):
    created = invite(world["alice"], spots=2, depth=1, removal="invited", accepts=3)
    bob = world["bob"]
    page = bob.client.get(accept_path(created)).text
    assert "<script>" not in page and ".submit()" not in page
    assert "<strong>alice</strong> invites you" in page and "<strong>chat</strong>" in page
    assert "Can invite up to 2 people, who cannot invite further" in page
    assert "Can remove the people they invite" in page
    assert 'href="/login/access/view/groups">Not now</a>' in page
    assert access_of(service).membership(bob.id, CHAT) is None


def test_the_short_code_shows_the_same_preview_before_joining(service, world):
    created = invite(world["alice"])
    bob = world["bob"]
    preview = bob.post_form("/login/access/view/code", {"code": created["short_code"]})
    assert preview.status_code == 200 and "<h1>Join chat?</h1>" in preview.text
    assert "Not now" in preview.text and "<script>" not in preview.text
    assert access_of(service).membership(bob.id, CHAT) is None, "typing a code joins nothing"


@pytest.mark.parametrize("typed, says", [
    ("O", "never contain 'O'"), ("0", "never contain '0'"), ("1", "never contain '1'"),
    ("I", "never contain 'I'"), ("l", "never contain 'L'"),
])
def test_look_alike_characters_are_named_next_to_the_field(world, typed, says):
    created = invite(world["alice"])
    code = typed + created["short_code"][1:]
    page = world["bob"].post_form("/login/access/view/code", {"code": code})
    assert page.status_code == 400
    assert re.search(r'id="code-error">[^<]*' + re.escape(str(escape(says))), page.text)
    assert f'value="{code}"' in page.text and 'aria-invalid="true"' in page.text
    api = world["bob"].post_json("/login/access/code", {"code": code})
    assert api.status_code == 400 and api.json["field"] == "code" and says in api.json["message"]


def test_a_short_code_of_the_wrong_length_says_so(world):
    page = world["bob"].post_form("/login/access/view/code", {"code": "ABC-D"})
    assert page.status_code == 400 and "8 characters, this one has 4" in page.text


def test_an_unknown_short_code_is_told_on_the_form(world):
    page = world["bob"].post_form("/login/access/view/code", {"code": "zzzz zzzz"})
    assert page.status_code == 404 and 'id="code-error"' in page.text
    assert 'value="zzzz zzzz"' in page.text


def test_you_joined_is_said_once_where_you_land_and_nowhere_else(service, world):
    created = invite(world["alice"])
    bob = world["bob"]
    joined = bob.post_form(accept_path(created), {"confirmed": "yes"})
    assert joined.location == "/login/access/view/groups?joined=chat"
    assert "You joined <strong>chat</strong>" in bob.client.get(joined.location).text
    for path in ("/login/view/sessions", "/login/access/view/groups", "/login/"):
        assert "You joined" not in bob.client.get(path).text, path
    assert "You joined" not in world["carol"].client.get(joined.location).text, \
        "the URL alone claims nothing"


def test_joining_with_a_redirect_leaves_no_message_behind(world):
    created = invite(world["alice"], redirect="http://localhost:5000/chat")
    bob = world["bob"]
    joined = bob.post_form(accept_path(created), {"confirmed": "yes"})
    assert joined.location == "http://localhost:5000/chat"
    assert "You joined" not in bob.client.get("/login/view/sessions").text


@pytest.mark.parametrize("preset, spots, depth, removal", [
    ("member", 0, 0, "NONE"), ("inviter", 5, 1, "INVITED"), ("manager", 5, 1, "INVITED")])
def test_presets_give_plain_kinds_of_access(service, world, preset, spots, depth, removal):
    alice = world["alice"]  # holds 5 spots, depth 2, may remove those she invites
    posted = alice.post_form("/login/access/view/invite", {"group": "chat", "preset": preset})
    assert posted.status_code == 303, posted.text
    [stored] = access_of(service).invites_by(alice.id)
    assert (stored.terms.spots, stored.terms.depth, stored.terms.removal.name) == \
        (spots, depth, removal)


def test_when_access_ends_is_one_choice(service, world, clock):
    alice = world["alice"]
    alice.post_form("/login/access/view/invite", {"group": "chat", "ends": "after",
                                                  "ends_after": "604800"})
    alice.post_form("/login/access/view/invite", {"group": "chat", "ends": "on",
                                                  "ends_on": "2099-12-31"})
    after, on = sorted(access_of(service).invites_by(alice.id),
                       key=lambda i: i.terms.access_for is None)
    assert after.terms.access_for == 604800 and after.terms.access_expires is None
    assert on.terms.access_expires == 4102444799  # 2099-12-31T23:59:59Z


@pytest.mark.parametrize("fields, slot, status, says", [
    ({"accepts": "lots"}, "accepts", 400, "whole number"),
    ({"accepts": "9"}, "accepts", 403, "more places than you hold"),
    ({"preset": "custom", "depth": "5"}, "preset", 403, "cannot be passed on that far"),
    ({"group": "other"}, "group", 403, "only to a group you hold"),
    ({"ends": "on", "ends_on": "someday"}, "ends", 400, "2030-12-31"),
    ({"redirect": "https://evil.example/"}, "redirect", 400, "not an allowed destination"),
])
def test_invite_form_errors_stand_next_to_their_field_with_values_kept(
        service, world, fields, slot, status, says):
    alice = world["alice"]
    page = alice.post_form("/login/access/view/invite", {"group": "chat", **fields})
    assert page.status_code == status
    assert re.search(rf'id="{slot}-error">[^<]*{says}', page.text), page.text
    for value in fields.values():
        assert f'value="{value}"' in page.text or value in ("custom", "on")
    assert "<h1>Invite someone</h1>" in page.text
    assert access_of(service).invites_by(alice.id) == []


def test_invite_form_hints_are_tied_to_their_inputs(world):
    page = world["alice"].client.get("/login/access/view/invite").text
    for slot in ("group", "accepts"):
        assert f'aria-describedby="{slot}-hint"' in page and f'id="{slot}-hint"' in page
    assert "<details" in page and "<summary>More options</summary>" in page


def test_invite_lists_tell_invites_apart_newest_first_and_grey_spent_ones(
        service, world, clock):
    alice = world["alice"]
    old = invite(alice, accepts=1)
    assert world["bob"].post_json(accept_path(old), {}).status_code == 200
    clock.advance(60)
    new = invite(alice, accepts=2)
    page = alice.client.get("/login/access/view/renege").text
    assert page.index("…" + new["invite"][-4:]) < page.index("…" + old["invite"][-4:])
    spent = page[page.index("…" + old["invite"][-4:]):]
    assert 'class="spent"' in page and "used up" in spent and "Revoke" not in spent
    assert page.count('<button class="danger"') == 1
    remove = alice.client.get("/login/access/view/remove").text
    assert "Remove bob from chat</button>" in remove and "Leave chat</button>" in remove


def test_refusals_have_a_human_headline_a_reason_and_ways_on(service, world):
    created = invite(world["alice"])
    world["alice"].post_json("/login/access/renege", {"invite": created["invite"]})
    page = world["bob"].client.get(accept_path(created)).text
    assert "<h1>This invite was revoked</h1>" in page and "took it back" in page
    for link in ("Your access", "Enter an invite code", "Log in as someone else"):
        assert f">{link}</a>" in page
    missing = world["bob"].client.get("/login/access/accept/" + "x" * 32).text
    assert "<h1>We could not find that</h1>" in missing
    api = world["bob"].get_json(accept_path(created))
    assert api.json["error"] == "revoked", "the JSON twin is unchanged"


def test_logged_out_visitors_are_told_why_they_must_log_in(service, world):
    created = invite(world["alice"])
    stranger = service.test_client()
    page = stranger.get(stranger.get(accept_path(created)).location).text
    assert "Log in to join chat." in page
    sessions = stranger.get(stranger.get("/login/view/sessions").location).text
    assert "Log in to see your sessions." in sessions
    answer = stranger.get("/login/", headers=JSON)
    assert "reason" not in answer.json, "the JSON twin is unchanged"
