"""Each use case sends its signal once and writes one audit row in its own transaction;
a refused change sends and writes nothing; users see only their own audit events."""

from __future__ import annotations

import json

import pytest

from flask_modular_login import keystore, signals
from flask_modular_login.config import load_settings
from flask_modular_login.core import invitations as rules
from flask_modular_login.core.errors import SessionEnded
from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.invitations import InviteRequest, Removal
from flask_modular_login.service import Services
from flask_modular_login.service.access import AlreadyRevoked, NotYours
from flask_modular_login.store import open_store
from flask_modular_login.store.accounts import IdentityTaken, LastIdentity, NoSuchIdentity
from flask_modular_login.store.tables import audit
from tests.support.access import People

CLUB = GroupPath("club")
IP = "203.0.113.7"


@pytest.fixture
def services(tmp_path, clock, database_url):
    settings = load_settings(environ={}, run_dir=tmp_path / "run", lease_seconds=900,
                             database_url=database_url)
    keystore.load(settings.keys_dir, create=True)
    store = open_store(settings.database_url, migrate=True)
    built = Services.build(store, keystore.KeyCache(settings.keys_dir).get, settings, clock)
    yield built
    store.dispose()


@pytest.fixture
def sent():
    """Every signal sent during the test: (name, sender, kwargs)."""
    seen: list[tuple[str, object, dict]] = []
    receivers = []
    for signal in signals.ALL:
        def receiver(sender, _name=signal.name, **kwargs):
            seen.append((_name, sender, kwargs))
        receivers.append(receiver)
        signal.connect(receiver)
    yield seen
    for signal, receiver in zip(signals.ALL, receivers, strict=True):
        signal.disconnect(receiver)


def user(services, name: str, clock) -> str:
    return services.store.accounts.login("test", name, name, None, int(clock())).id


def rows(services):
    """Every audit row, oldest first."""
    return list(reversed(services.store.audit.list(limit=10_000)))


def raw_details(services) -> str:
    """Every stored detail, as stored (JSON text)."""
    with services.store.read() as conn:
        return " ".join(conn.execute(audit.select().with_only_columns(audit.c.detail))
                        .scalars())


def one_new(services, before: int):
    after = rows(services)
    assert len(after) == before + 1, [r.kind for r in after[before:]]
    return after[-1]


def only_signal(sent, name: str) -> dict:
    assert [s[0] for s in sent] == [name]
    kwargs = sent[0][2]
    sent.clear()
    return kwargs


def assert_nothing(services, sent, before: int) -> None:
    assert len(rows(services)) == before, "a refused change writes no audit row"
    assert sent == [], "a refused change sends no signal"


# ------------------------------------------------------------------ sessions


def test_login_and_logout(services, sent, clock):
    alice = user(services, "alice", clock)
    issued = services.sessions.start(alice, "test", ip=IP, user_agent="UA")
    session_id = issued.lease.session_id
    handle = services.store.sessions.handle(session_id)
    row = one_new(services, 0)
    assert (row.kind, row.user_id, row.actor_id, row.ip) == ("login", alice, alice, IP)
    assert row.detail == {"provider": "test", "handle": handle}
    assert only_signal(sent, "login") == {"user_id": alice, "handle": handle,
                                          "provider": "test", "ip": IP}
    assert sent == []

    assert services.sessions.end(session_id, "logout", ip=IP)
    row = one_new(services, 1)
    assert (row.kind, row.user_id, row.actor_id) == ("logout", alice, alice)
    assert row.detail == {"handles": [handle], "reason": "logout"}
    assert only_signal(sent, "logout") == {"user_id": alice, "handle": handle, "ip": IP}

    assert not services.sessions.end(session_id, "logout"), "already ended"
    assert not services.sessions.end("no-such-session", "logout")
    assert_nothing(services, sent, 2)
    assert session_id not in raw_details(services)
    assert issued.token not in raw_details(services)


def test_ending_sessions(services, sent, clock):
    alice, bob = user(services, "alice", clock), user(services, "bob", clock)
    first = services.sessions.start(alice, "test")
    second = services.sessions.start(alice, "test")
    third = services.sessions.start(alice, "test")
    services.sessions.start(bob, "test")
    sent.clear()
    before = len(rows(services))
    first_handle = services.store.sessions.handle(first.lease.session_id)

    assert not services.sessions.end_by_handle(bob, first_handle), "not bob's session"
    assert_nothing(services, sent, before)

    assert services.sessions.end_by_handle(alice, first_handle, ip=IP)
    row = one_new(services, before)
    assert (row.kind, row.user_id, row.actor_id, row.ip) == ("session_ended", alice, alice, IP)
    assert row.detail == {"handles": [first_handle], "reason": "ended"}
    assert only_signal(sent, "session-ended") == {
        "user_id": alice, "actor_id": alice, "handles": [first_handle], "reason": "ended",
        "ip": IP}

    assert services.sessions.end_others(alice, keep=third.lease.session_id) == 1
    row = one_new(services, before + 1)
    second_handle = services.store.sessions.handle(second.lease.session_id)
    assert row.detail == {"handles": [second_handle], "reason": "ended_by_user"}
    assert only_signal(sent, "session-ended")["handles"] == [second_handle]

    assert services.sessions.end_others(alice, keep=third.lease.session_id) == 0
    assert_nothing(services, sent, before + 2)

    assert services.sessions.remove_user(alice) == 1
    row = one_new(services, before + 2)
    third_handle = row.detail["handles"][0]
    assert (row.kind, row.user_id, row.actor_id) == ("session_ended", alice, None)
    assert row.detail == {"handles": [third_handle], "reason": "user_removed"}
    assert only_signal(sent, "session-ended")["actor_id"] is None
    assert services.store.audit.list(user_id=bob)[0].kind == "login", "bob's rows stay his"


def test_a_refused_renewal_is_signalled_but_not_audited(services, sent, clock):
    alice = user(services, "alice", clock)
    issued = services.sessions.start(alice, "test")
    handle = services.store.sessions.handle(issued.lease.session_id)
    services.sessions.end(issued.lease.session_id, "logout")
    sent.clear()
    before = len(rows(services))
    clock.advance(1000)
    with pytest.raises(SessionEnded):
        services.sessions.renew(issued.lease, ip=IP)
    assert len(rows(services)) == before
    assert only_signal(sent, "renewal-refused") == {"user_id": alice, "handle": handle,
                                                    "ip": IP}
    fresh = services.sessions.start(alice, "test")
    clock.advance(1000)
    sent.clear()
    before = len(rows(services))
    services.sessions.renew(fresh.lease)
    assert only_signal(sent, "lease-renewed") == {"user_id": alice, "ip": None}
    assert len(rows(services)) == before, "a renewal granted is not audited"


# ------------------------------------------------------------------ identities


def test_link_and_unlink(services, sent, clock):
    alice, bob = user(services, "alice", clock), user(services, "bob", clock)
    github = services.sessions.start(alice, "github")
    kept = services.sessions.start(alice, "test")
    sent.clear()
    before = len(rows(services))

    assert services.sessions.link_identity(alice, "github", "alice-gh", ip=IP)
    row = one_new(services, before)
    assert (row.kind, row.user_id, row.actor_id, row.ip) == ("identity_linked", alice, alice, IP)
    assert row.detail == {"provider": "github"}
    assert only_signal(sent, "identity-linked") == {"user_id": alice, "provider": "github",
                                                    "ip": IP}

    assert not services.sessions.link_identity(alice, "github", "alice-gh"), "already hers"
    with pytest.raises(IdentityTaken):
        services.sessions.link_identity(bob, "github", "alice-gh")
    with pytest.raises(LastIdentity):
        services.sessions.unlink_identity(bob, "test", "bob")
    with pytest.raises(NoSuchIdentity):
        services.sessions.unlink_identity(bob, "github", "alice-gh")
    assert_nothing(services, sent, before + 1)

    services.sessions.unlink_identity(alice, "github", "alice-gh", ip=IP)
    row = one_new(services, before + 1)
    assert (row.kind, row.detail) == ("identity_unlinked", {"provider": "github"})
    assert only_signal(sent, "identity-unlinked") == {"user_id": alice, "provider": "github",
                                                      "ip": IP}
    assert services.sessions.end_through_provider(alice, "github",
                                                  keep=kept.lease.session_id, ip=IP) == 1
    row = one_new(services, before + 2)
    handle = services.store.sessions.handle(github.lease.session_id)
    assert row.detail == {"handles": [handle], "reason": "unlinked"}
    assert only_signal(sent, "session-ended")["reason"] == "unlinked"
    assert "alice-gh" not in raw_details(services), "the audit names the provider only"


# ------------------------------------------------------------------ access


def invite(services, inviter: str, accepts: int = 1, removal=Removal.NONE, ip=None):
    return services.access.create_invite(
        inviter, CLUB, lambda now, grant: InviteRequest(CLUB, accept_by=now + 3600,
                                                        accepts=accepts, removal=removal),
        ip=ip)


@pytest.fixture
def club(services, clock):
    alice, bob, carol = (user(services, name, clock) for name in ("alice", "bob", "carol"))
    services.store.access.ensure_group(CLUB, int(clock()), owner=("test", "alice"))
    return alice, bob, carol


def test_invites(services, sent, clock, club):
    alice, bob, carol = club
    issued, _ = invite(services, alice, ip=IP)
    row = one_new(services, 0)
    assert (row.kind, row.user_id, row.actor_id, row.ip) == ("invite_created", alice, alice, IP)
    assert row.detail == {"group": "club", "invite_id": issued.id}
    assert only_signal(sent, "invite-created") == {"user_id": alice, "group": "club",
                                                   "invite_id": issued.id, "ip": IP}

    with pytest.raises(rules.OutsideGroup):
        invite(services, bob)
    assert_nothing(services, sent, 1)

    services.access.redeem(issued.code, bob, ip=IP)
    row = one_new(services, 1)
    assert (row.kind, row.user_id, row.actor_id) == ("invite_redeemed", bob, bob)
    assert row.detail == {"group": "club", "invite_id": issued.id}
    assert only_signal(sent, "invite-redeemed") == {"user_id": bob, "group": "club",
                                                    "invite_id": issued.id, "ip": IP}
    with pytest.raises(rules.RedeemError):
        services.access.redeem(issued.code, carol)  # used up
    assert_nothing(services, sent, 2)

    second, _ = invite(services, alice)
    sent.clear()
    with pytest.raises(NotYours):
        services.access.renege(bob, second.id)
    assert_nothing(services, sent, 3)
    services.access.renege(alice, second.id, ip=IP)
    row = one_new(services, 3)
    assert (row.kind, row.user_id, row.actor_id) == ("invite_reneged", alice, alice)
    assert row.detail == {"group": "club", "invite_id": second.id}
    assert only_signal(sent, "invite-reneged") == {
        "user_id": alice, "actor_id": alice, "group": "club", "invite_id": second.id, "ip": IP}
    with pytest.raises(AlreadyRevoked):
        services.access.renege(alice, second.id)
    assert_nothing(services, sent, 4)

    details = raw_details(services)
    for secret in (issued.code, issued.short_code, second.code, second.short_code):
        assert secret not in details


def test_members(services, sent, clock, club):
    alice, bob, carol = club
    services.access.add_member(None, CLUB, bob, ip=IP)
    row = one_new(services, 0)
    assert (row.kind, row.user_id, row.actor_id, row.ip) == ("member_added", bob, None, IP)
    assert row.detail == {"group": "club"}
    assert only_signal(sent, "member-added") == {"user_id": bob, "actor_id": None,
                                                 "group": "club", "ip": IP}
    carols, _ = invite(services, alice)
    services.access.redeem(carols.code, carol)  # joined through alice: hers to remove
    sent.clear()

    with pytest.raises(NotYours):
        services.access.remove(bob, CLUB, carol)  # bob's grant covers no removal
    assert_nothing(services, sent, 3)

    services.access.remove(alice, CLUB, carol, ip=IP)
    row = one_new(services, 3)
    assert (row.kind, row.user_id, row.actor_id) == ("member_removed", carol, alice)
    assert only_signal(sent, "member-removed") == {"user_id": carol, "actor_id": alice,
                                                   "group": "club", "ip": IP}
    assert services.access.drop_member(None, CLUB, bob)
    row = one_new(services, 4)
    assert (row.kind, row.user_id, row.actor_id) == ("member_removed", bob, None)
    assert only_signal(sent, "member-removed")["actor_id"] is None
    assert not services.access.drop_member(None, CLUB, bob), "no longer a member"
    assert_nothing(services, sent, 5)


def test_a_failing_receiver_never_fails_the_change(services, clock):
    alice = user(services, "alice", clock)

    def broken(sender, **kwargs):
        raise RuntimeError("receiver bug")

    signals.login.connect(broken)
    try:
        services.sessions.start(alice, "test")
    finally:
        signals.login.disconnect(broken)
    assert [r.kind for r in rows(services)] == ["login"]


# ------------------------------------------------------------------ the sessions page


def test_users_see_only_their_own_audit_events(service, login, clock):
    people = People(service, login)
    alice, bob = people["alice"], people["bob"]
    store = service.extensions["flask_modular_login"].store
    bob_handles = [info.handle for _, info in store.sessions.active(bob.id, int(clock()))]
    alice_sessions = store.sessions.active(alice.id, int(clock()))
    alice_handle = alice_sessions[0][1].handle

    listing = alice.get_json("/login/sessions").json
    assert [a["kind"] for a in listing["audit"]] == ["login"]
    assert listing["audit"][0]["detail"] == {"handle": alice_handle, "provider": "test"}
    assert listing["audit"][0]["by"] == "you"
    assert bob_handles and all(h not in json.dumps(listing["audit"]) for h in bob_handles)
    assert alice_sessions[0][0] not in json.dumps(listing)

    bob.post_form("/login/sessions/end", {"handle": alice_handle})  # not his: refused
    assert [a["kind"] for a in alice.get_json("/login/sessions").json["audit"]] == ["login"]

    page = alice.client.get("/login/view/sessions").text
    assert "Recent activity" in page and alice_handle in page
    assert all(h not in page for h in bob_handles)
    bob_page = bob.client.get("/login/view/sessions").text
    assert alice_handle not in bob_page
    assert [a["kind"] for a in bob.get_json("/login/sessions").json["audit"]] == ["login"]


def test_the_page_shows_newest_first_and_who_did_it(service, login):
    people = People(service, login)
    alice = people["alice"]
    access = service.extensions["flask_modular_login"].access
    access.add_member(None, CLUB, alice.id)
    access.drop_member(None, CLUB, alice.id)
    listing = alice.get_json("/login/sessions").json["audit"]
    assert [(a["kind"], a["by"]) for a in listing] == [
        ("member_removed", "operator"), ("member_added", "operator"), ("login", "you")]
