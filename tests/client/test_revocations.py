"""A client keeps a revocation until every lease of that session has run out, whatever its own
``LOGIN_LEASE_SECONDS``, and forgets it then (memory stays bounded)."""

from __future__ import annotations

from flask_modular_login import LocalLoginInterface


def _client(run_dir, clock, **settings) -> LocalLoginInterface:
    return LocalLoginInterface(run_dir=str(run_dir), debug=True, clock=clock, **settings)


def _revoke(interface, token, clock) -> None:
    sid = interface.verifier.lease(token).session_id
    assert interface.store.sessions.revoke(sid, "logout", int(clock()))


def test_a_client_with_shorter_leases_refuses_a_revoked_lease_until_it_expires(
        run_dir, login, clock, interface):
    token = login("alice")  # the service's leases: 900 s
    short = _client(run_dir, clock, lease_seconds=60)
    expires_at = short.verifier.lease(token).expires_at
    assert short.authenticate(token).user["name"] == "alice"
    _revoke(interface, token, clock)
    clock.advance(0.3)
    while clock() < expires_at - 1:
        assert short.authenticate(token).user is None, f"accepted {clock() - expires_at:+.0f}s"
        clock.advance(59)
    clock.advance(expires_at - clock() - 0.5)
    assert short.authenticate(token).user is None, "half a second before the lease ends"
    clock.advance(1)
    assert short.authenticate(token).user is None, "expired, and renewal is refused"


def test_a_client_started_after_the_revocation_refuses_the_revoked_lease(
        run_dir, login, clock, interface):
    token = login("alice")
    _revoke(interface, token, clock)
    clock.advance(300)
    late = _client(run_dir, clock, lease_seconds=60)
    assert late.authenticate(token).user is None
    clock.advance(500)
    assert late.authenticate(token).user is None


def test_a_lease_renewed_by_a_client_with_longer_leases_is_refused_until_it_expires(
        run_dir, login, clock, interface):
    token = login("alice")
    long = _client(run_dir, clock, lease_seconds=3600)
    clock.advance(901)
    renewed = long.authenticate(token).renewed
    assert renewed is not None and renewed.lease.expires_at == int(clock()) + 3600
    _revoke(interface, renewed.token, clock)
    clock.advance(1000)
    started_later = _client(run_dir, clock)  # 900 s leases, like the service
    assert started_later.authenticate(renewed.token).user is None
    clock.advance(2500)
    assert started_later.authenticate(renewed.token).user is None
    assert long.authenticate(renewed.token).user is None


def test_a_revocation_is_forgotten_once_every_lease_of_the_session_ended(
        run_dir, service, login, clock, interface):
    tokens = [login("alice"), login("bob", client=service.test_client())]
    for token in tokens:
        _revoke(interface, token, clock)
    clock.advance(0.3)
    assert [interface.authenticate(t).user for t in tokens] == [None, None]
    assert len(interface.feed.revoked) == 2
    clock.advance(900)
    assert [interface.authenticate(t).user for t in tokens] == [None, None], "expired, refused"
    assert len(interface.feed.revoked) == 0
    started_later = _client(run_dir, clock)
    assert len(started_later.feed.revoked) == 0
    assert [started_later.authenticate(t).user for t in tokens] == [None, None]
