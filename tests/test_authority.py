"""The lease authority: a login's session and its first lease come from one transaction."""

from __future__ import annotations


def test_end_others_between_a_logins_insert_and_its_first_lease_never_breaks_the_login(
        interface, clock, monkeypatch):
    """The other device ends "all other sessions" right after the new session is written:
    the login still gets its lease (no error), and the session it got is ended."""
    store, authority = interface.store, interface.authority
    user = store.accounts.login("test", "alice", "alice", None, int(clock()))
    laptop = authority.start_session(user.id, "test")
    create, ended = store.sessions.create, []

    def create_then_end_others(*args, **kwargs):
        made = create(*args, **kwargs)
        ended.append(store.sessions.revoke_user(user.id, "ended_by_user", int(clock()),
                                                keep=laptop.lease.session_id))
        return made

    monkeypatch.setattr(store.sessions, "create", create_then_end_others)
    phone = authority.start_session(user.id, "test")
    assert ended == [1], "end others ran between the two steps and ended the new session"
    assert phone.lease.user_id == user.id and phone.lease.session_id != laptop.lease.session_id
    assert store.sessions.facts(phone.lease.session_id).revoked
    interface.sync_revocations()
    assert interface.authenticate(phone.token).user is None, "ended after it began: refused"
    assert interface.authenticate(laptop.token).user["name"] == "alice"
