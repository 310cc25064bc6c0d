"""Access store: groups, the membership oracle, invites, atomic redemption."""

from __future__ import annotations

import threading

import pytest

from flask_modular_login.core import invitations as rules
from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.invitations import Grant, InviteRequest, Removal
from flask_modular_login.store import open_store
from flask_modular_login.store.access import InviteNotFound

NOW = 1_800_000_000
DAY = 86_400
CHAT = GroupPath("chat")


def user(store, name: str) -> str:
    return store.accounts.login("test", name, name, None, NOW).id


def invite(store, inviter_id, group=CHAT, **request):
    holding = store.access.holding(inviter_id, group, NOW)
    terms = rules.validate_invite(inviter_id, holding.grant, holding.group,
                                  InviteRequest(group=group, accept_by=NOW + DAY, **request), NOW)
    return store.access.create_invite(terms, NOW)


def test_owner_identity_holds_the_root_before_and_after_first_login(store):
    store.access.ensure_group(CHAT / "room", NOW, owner=("test", "127.0.0.1"))
    owner = user(store, "127.0.0.1")
    found = store.access.memberships(owner, [CHAT / "room" / "x", GroupPath("other")], NOW)
    assert found == {CHAT / "room" / "x": CHAT, GroupPath("other"): None}
    assert store.access.holding(owner, CHAT / "room", NOW).grant == Grant.owner()


def test_membership_flows_down_and_expires(store):
    alice = user(store, "alice")
    store.access.add_member(CHAT / "a", alice, NOW, Grant(expires=NOW + 10))
    found = store.access.memberships(alice, [CHAT / "a" / "b", CHAT / "b", CHAT], NOW)
    assert found == {CHAT / "a" / "b": CHAT / "a", CHAT / "b": None, CHAT: None}
    assert store.access.memberships(alice, [CHAT / "a"], NOW + 10) == {CHAT / "a": None}


def test_nearest_grant_wins(store):
    alice = user(store, "alice")
    store.access.add_member(CHAT, alice, NOW)
    store.access.add_member(CHAT / "a", alice, NOW, Grant(spots=3, depth=1))
    assert store.access.memberships(alice, [CHAT / "a" / "z"], NOW)[CHAT / "a" / "z"] == CHAT / "a"
    assert store.access.holding(alice, CHAT / "a" / "z", NOW).grant.spots == 3


def test_redeem_joins_with_capped_grant_and_spends_a_spot(store):
    owner, alice, bob = user(store, "o"), user(store, "alice"), user(store, "bob")
    store.access.ensure_group(CHAT, NOW, owner=("test", "o"))
    store.access.add_member(CHAT, alice, NOW, Grant(spots=2, depth=2, removal=Removal.INVITED))
    issued = invite(store, alice, accepts=2, spots=1, depth=1)
    joined = store.access.redeem(issued.code, bob, NOW)
    assert joined.grant.depth == 1 and joined.grant.spots == 1
    assert joined.inviters == (alice,)
    assert store.access.membership(alice, CHAT).grant.spots == 1
    assert store.access.invite(issued.code).state.uses == 1
    assert owner not in joined.inviters


@pytest.mark.parametrize("error, setup", [
    (rules.SelfInvite, lambda s, code, a, b: s.access.redeem(code, a, NOW)),
    (rules.Revoked, lambda s, code, a, b: s.access.revoke_invite(
        s.access.invite(code).id, NOW) and s.access.redeem(code, b, NOW)),
    (rules.Expired, lambda s, code, a, b: s.access.redeem(code, b, NOW + DAY)),
])
def test_redeem_errors(store, error, setup):
    alice, bob = user(store, "alice"), user(store, "bob")
    store.access.add_member(CHAT, alice, NOW, Grant(spots=5, depth=1))
    issued = invite(store, alice, accepts=2)
    with pytest.raises(error):
        setup(store, issued.code, alice, bob)
    assert store.access.membership(bob, CHAT) is None


def test_already_member_and_unknown_code(store):
    alice, bob = user(store, "alice"), user(store, "bob")
    store.access.add_member(CHAT, alice, NOW, Grant(spots=5, depth=1))
    issued = invite(store, alice, accepts=3)
    store.access.redeem(issued.code, bob, NOW)
    with pytest.raises(rules.AlreadyMember):
        store.access.redeem(issued.code, bob, NOW)
    with pytest.raises(InviteNotFound):
        store.access.redeem("not-a-code", bob, NOW)
    assert store.access.invite(issued.code).state.uses == 1, "a refused redemption counts nothing"


def test_short_code_finds_the_invite(store):
    alice = user(store, "alice")
    store.access.add_member(CHAT, alice, NOW, Grant(spots=5, depth=1))
    issued = invite(store, alice)
    assert store.access.invite_id_for_short_code(issued.short_code.lower()) == issued.id
    assert store.access.invite_id_for_short_code("ZZZZZZZZ") is None


def test_concurrent_redemptions_make_exactly_k_members(url, store):
    alice = user(store, "alice")
    store.access.add_member(CHAT, alice, NOW, Grant(spots=None, depth=1))
    issued = invite(store, alice, accepts=3)
    redeemers = [user(store, f"u{i}") for i in range(12)]
    outcomes = race(url, [redeeming(issued.code, r) for r in redeemers])
    joined = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(outcomes) == 12 and len(joined) == 3
    assert all(isinstance(o, rules.UsedUp) for o in outcomes if isinstance(o, Exception))
    assert len(store.access.members(CHAT)) == 1 + 3
    assert store.access.invite(issued.code).state.uses == 3


def test_spots_bound_concurrent_redemptions_of_many_invites(url, store):
    alice = user(store, "alice")
    store.access.add_member(CHAT, alice, NOW, Grant(spots=2, depth=1))
    codes = [invite(store, alice, accepts=1).code for _ in range(5)]
    redeemers = [user(store, f"u{i}") for i in range(5)]
    results: list[object] = []

    def redeem(code, user_id):
        own = open_store(url)
        try:
            results.append(own.access.redeem(code, user_id, NOW))
        except rules.UsedUp as error:
            results.append(error)
        finally:
            own.dispose()

    pairs = zip(codes, redeemers, strict=True)
    threads = [threading.Thread(target=redeem, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(not isinstance(r, Exception) for r in results) == 2
    assert store.access.membership(alice, CHAT).grant.spots == 0


def test_remove_member_and_events(store):
    alice = user(store, "alice")
    cursor = store.events.cursor()
    store.access.add_member(CHAT / "x", alice, NOW)
    assert store.access.remove_member(CHAT / "x", alice, NOW)
    assert not store.access.remove_member(CHAT / "x", alice, NOW)
    events = store.events.after(cursor)
    assert [(e.kind, str(e.group)) for e in events] == [("added", "chat/x"), ("removed", "chat/x")]


def test_members_of_a_subtree_do_not_leak_prefix_siblings(store):
    a, b = user(store, "a"), user(store, "b")
    store.access.add_member(CHAT / "x", a, NOW)
    store.access.add_member(GroupPath("chatter"), b, NOW)
    store.access.add_member(GroupPath("chat_"), b, NOW)
    assert [m.user_id for m in store.access.members(CHAT, subtree=True)] == [a]


def test_grants_tell_until_when_each_answer_stands(store):
    from flask_modular_login.store.access import Held

    alice = user(store, "alice")
    store.access.add_member(CHAT / "a", alice, NOW, Grant(expires=NOW + 10))
    store.access.add_member(CHAT / "b", alice, NOW)
    store.access.ensure_group(GroupPath("mine"), NOW, owner=("test", "alice"))
    found = store.access.grants(alice, [CHAT / "a" / "x", CHAT / "b", GroupPath("mine") / "y",
                                        CHAT / "c"], NOW)
    assert found == {CHAT / "a" / "x": Held(CHAT / "a", NOW + 10),
                     CHAT / "b": Held(CHAT / "b", None),
                     GroupPath("mine") / "y": Held(GroupPath("mine"), None),
                     CHAT / "c": None}


def redeeming(code: str, user_id: str):
    """A redemption to :func:`race`: it takes the store to redeem through."""
    return lambda store: store.access.redeem(code, user_id, NOW)


def race(url, calls) -> list[object]:
    """Run ``calls`` (each taking its own store) at once; their results or RedeemErrors."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = []

    def run(call):
        own = open_store(url)
        barrier.wait()
        try:
            outcomes.append(call(own))
        except rules.RedeemError as error:
            outcomes.append(error)
        finally:
            own.dispose()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_one_person_racing_themselves_joins_once(url, store):
    alice, bob = user(store, "alice"), user(store, "bob")
    store.access.add_member(CHAT, alice, NOW, Grant(spots=None, depth=1))
    same = invite(store, alice, accepts=5, access_for=DAY)
    others = [invite(store, alice, accepts=1) for _ in range(3)]
    calls = [redeeming(same.code, bob)] * 4 + [redeeming(o.code, bob) for o in others]
    outcomes = race(url, calls)
    assert len(outcomes) == 7
    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    assert all(isinstance(o, rules.AlreadyMember) for o in outcomes if isinstance(o, Exception))
    uses = [store.access.invite(i.code).state.uses for i in [same, *others]]
    assert sum(uses) == 1, "the losers spent nothing"
