"""The programmatic API of ``interface.access``: ensure, add and remove members, list."""

from __future__ import annotations

from flask_modular_login import AccessNamespace, Grant
from flask_modular_login.core import invitations as rules
from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.invitations import InviteRequest

CHAT = AccessNamespace("chat", ownership_method="test", owner_id="olivia")


def make_user(interface, clock, name: str) -> str:
    return interface.store.accounts.login("test", name, name, None, int(clock())).id


def test_ensure_makes_the_path_and_its_owned_root(interface):
    access = interface.access
    assert access.ensure(CHAT / "rooms" / "kitchen")
    assert interface.store.access.owners(CHAT) == [("test", "olivia")]
    assert access.ensure(GroupPath("plain") / "x"), "no owner asked: nothing to own"
    assert interface.store.access.owners(GroupPath("plain")) == []


def test_members_can_be_added_with_a_grant_listed_and_removed(interface, clock):
    access = interface.access
    alice, bob = make_user(interface, clock, "alice"), make_user(interface, clock, "bob")
    access.add_member(CHAT / "a", alice, Grant(expires=clock() + 60, spots=2, depth=1))
    access.add_member(CHAT / "a" / "b", bob)
    assert [m.user_id for m in access.members(CHAT / "a")] == [alice]
    listed = access.members(CHAT / "a", subtree=True)
    assert [(m.user_id, str(m.group)) for m in listed] == [(alice, "chat/a"), (bob, "chat/a/b")]
    assert listed[0].grant == Grant(expires=clock() + 60, spots=2, depth=1)
    assert access.remove_member(CHAT / "a", alice) and not access.remove_member(CHAT / "a", alice)
    assert access.members(CHAT / "a") == []


def test_invites_are_listed_by_group(interface, clock):
    access = interface.access
    olivia = make_user(interface, clock, "olivia")
    access.ensure(CHAT)
    holding = interface.store.access.holding(olivia, CHAT / "a", clock())
    terms = rules.validate_invite(olivia, holding.grant, holding.group,
                                  InviteRequest(group=CHAT / "a", accept_by=clock() + 60),
                                  clock())
    issued = interface.store.access.create_invite(terms, int(clock()))
    assert [invite.id for invite in access.invites(CHAT / "a")] == [issued.id]
    assert access.invites(CHAT) == []
    assert [invite.id for invite in access.invites(CHAT, subtree=True)] == [issued.id]
