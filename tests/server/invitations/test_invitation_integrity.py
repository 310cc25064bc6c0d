"""The four ways redemption used to break "never more than the inviter holds", walked
through the real views and store (SECURITY.md 16): an expired grant never comes back, a
second invite never re-parents a membership, depletion cannot be escaped or spots refilled,
and one person spends one place of an invite at most."""

from __future__ import annotations

import pytest

from flask_modular_login.core.invitations import Grant, Removal
from tests.support.access import CHAT, People, accept_path, access_of, invite

DAY = 86_400


@pytest.fixture
def owned(service, people, clock) -> People:
    """olivia owns ``chat``."""
    access_of(service).ensure_group(CHAT, int(clock.now), owner=("test", "olivia"))
    return people


def join(browser, created: dict):
    return browser.post_json(accept_path(created), {})


def test_an_expired_grant_never_comes_back_through_a_lesser_invite(service, owned, clock):
    generous = invite(owned["olivia"], spots=50, depth=5, removal="any_below", access_for=2)
    assert join(owned["victor"], generous).status_code == 200
    plain = invite(owned["olivia"], accepts=2, spots=1, depth=1)
    assert join(owned["peter"], plain).status_code == 200
    clock.advance(3)
    minimal = invite(owned["peter"])
    assert join(owned["victor"], minimal).status_code == 200
    held = access_of(service).membership(owned["victor"].id, CHAT)
    assert held.grant == Grant(spots=0, depth=0, removal=Removal.NONE)
    assert held.inviters == (owned["peter"].id, owned["olivia"].id)
    refused = owned["victor"].post_json("/login/access/invite", {"group": "chat"})
    assert refused.status_code == 403 and refused.json["error"] == "exceeds_depth"


def test_a_peer_cannot_take_over_a_member_by_inviting_them_again(service, owned):
    alice_invite = invite(owned["olivia"], spots=3, depth=1, removal="invited")
    assert join(owned["alice"], alice_invite).status_code == 200
    assert join(owned["victor"], invite(owned["olivia"], access_for=DAY)).status_code == 200
    lure = invite(owned["alice"])  # better in one dimension: no end
    answer = join(owned["victor"], lure)
    assert answer.status_code == 409 and answer.json["error"] == "already_member"
    assert access_of(service).membership(owned["victor"].id, CHAT).inviters == (
        owned["olivia"].id,)
    removal = owned["alice"].post_json("/login/access/remove",
                                       {"group": "chat", "user": owned["victor"].id})
    assert removal.status_code == 404
    assert access_of(service).membership(owned["victor"].id, CHAT) is not None


def test_depletion_cannot_be_escaped_nor_spent_spots_refilled(service, owned):
    olivia, alice = owned["olivia"], owned["alice"]
    depleting = invite(olivia, accepts=None, spots=2, depth=2, deplete=True)
    assert join(alice, depleting).status_code == 200
    assert join(owned["bob"], invite(alice)).status_code == 200
    assert access_of(service).membership(alice.id, CHAT).grant.spots == 1
    for second in (invite(olivia, spots=2, depth=2, deplete=False), depleting):
        answer = join(alice, second)
        assert answer.status_code == 409 and answer.json["error"] == "already_member"
    grant = access_of(service).membership(alice.id, CHAT).grant
    assert grant.deplete and grant.spots == 1


def test_one_person_spends_one_place_of_an_invite(service, owned, clock):
    created = invite(owned["olivia"], accepts=2, access_for=DAY)
    bob = owned["bob"]
    assert join(bob, created).status_code == 200
    for _ in range(3):
        clock.advance(60)
        answer = join(bob, created)
        assert answer.status_code == 409 and answer.json["error"] == "already_member"
        preview = bob.get_json(accept_path(created))
        assert preview.status_code == 409 and preview.json["error"] == "already_member"
    assert access_of(service).invite(created["code"]).state.uses == 1
    assert join(owned["carol"], created).status_code == 200


def test_once_per_invite_holds_after_leaving(service, owned):
    created = invite(owned["olivia"], accepts=3)
    bob = owned["bob"]
    assert join(bob, created).status_code == 200
    left = bob.post_json("/login/access/remove", {"group": "chat", "user": bob.id})
    assert left.status_code == 200
    answer = join(bob, created)
    assert answer.status_code == 409 and answer.json["error"] == "already_member"
    assert join(bob, invite(owned["olivia"])).status_code == 200, "a new invite may be taken"
