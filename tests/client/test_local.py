"""LocalLoginInterface: a valid lease costs no I/O; revocations arrive within the poll bound."""

from __future__ import annotations

import pytest

from flask_modular_login.client.revocations import RevocationsUnavailable
from flask_modular_login.core import leases


def test_a_valid_lease_costs_no_database_query_and_one_signature_check(
        interface, login, queries, monkeypatch):
    token = login("alice")
    assert interface.authenticate(token).user["name"] == "alice"
    checks = []
    monkeypatch.setattr(leases, "verify_signature",
                        lambda *a: checks.append(a) or pytest.fail("verified twice"))
    queries.clear()
    for _ in range(100):
        assert interface.authenticate(token).user["name"] == "alice"
    assert queries == [] and checks == []


def test_revocations_are_read_at_most_once_per_interval(interface, login, queries, clock):
    token = login("alice")
    interface.authenticate(token)
    queries.clear()
    for _ in range(10):
        clock.advance(0.01)
        interface.authenticate(token)
    assert queries == [], "0.1 s < the 0.25 s poll interval"
    clock.advance(0.2)
    interface.authenticate(token)
    assert len(queries) == 1


def test_a_revocation_is_seen_after_one_interval_not_before(interface, login, clock):
    token = login("alice")
    assert interface.authenticate(token).user is not None
    sid = interface.verifier.lease(token).session_id
    interface.store.sessions.revoke(sid, "test", int(clock()))
    clock.advance(0.1)
    assert interface.authenticate(token).user is not None, "inside the bound: not yet read"
    clock.advance(0.2)
    outcome = interface.authenticate(token)
    assert outcome.user is None and outcome.clear_cookie


def test_a_new_process_knows_recent_revocations_at_start(run_dir, login, clock, interface):
    from flask_modular_login import LocalLoginInterface

    token = login("alice")
    interface.store.sessions.revoke(interface.verifier.lease(token).session_id, "x", int(clock()))
    fresh = LocalLoginInterface(run_dir=str(run_dir), clock=clock)
    assert fresh.authenticate(token).user is None


def test_unreadable_store_fails_closed_after_the_staleness_limit(interface, login, clock,
                                                                 monkeypatch):
    token = login("alice")
    interface.authenticate(token)

    def broken(*args, **kwargs):
        raise OSError("database unreachable")

    monkeypatch.setattr(interface.store.events, "after", broken)
    clock.advance(1)
    assert interface.authenticate(token).user is not None, "a short outage is tolerated"
    clock.advance(10)
    with pytest.raises(RevocationsUnavailable):
        interface.authenticate(token)


def test_renewal_sets_a_new_lease_and_records_last_seen(interface, login, clock):
    token = login("alice")
    clock.advance(901)
    outcome = interface.authenticate(token)
    assert outcome.renewed is not None and outcome.renewed.token != token
    assert outcome.renewed.lease.expires_at == int(clock()) + 900
    rows = interface.store.sessions.active(outcome.user["id"], int(clock()))
    assert rows[0][1].last_seen == int(clock())


def test_no_renewal_past_the_absolute_session_life(interface, login, clock):
    token = login("alice")
    clock.advance(30 * 24 * 3600)
    outcome = interface.authenticate(token)
    assert outcome.user is None and outcome.clear_cookie


def test_client_app_answers_503_when_login_checks_are_unavailable(
        client, interface, login, clock, monkeypatch):
    client.set_cookie("login", login("alice"))
    monkeypatch.setattr(interface.store.events, "after",
                        lambda *a, **k: (_ for _ in ()).throw(OSError("down")))
    clock.advance(60)
    response = client.get("/hidden")
    assert response.status_code == 503
    assert response.json["error"] == "unavailable"


def test_concurrent_renewals_of_one_lease_all_succeed(interface, login, clock):
    """Two tabs whose lease ran out at once both get a fresh lease; neither errs."""
    import threading

    token = login("alice")
    clock.advance(901)
    outcomes, barrier = [], threading.Barrier(6)

    def renew():
        barrier.wait()
        outcomes.append(interface.authenticate(token))

    threads = [threading.Thread(target=renew) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 6
    assert all(o.user["name"] == "alice" and o.renewed is not None for o in outcomes)


def test_renewal_after_revocation_is_refused_even_if_racing(interface, login, clock):
    token = login("alice")
    clock.advance(901)
    interface.store.sessions.revoke(interface.verifier.lease(token).session_id, "x",
                                    int(clock()))
    outcome = interface.authenticate(token)
    assert outcome.user is None and outcome.clear_cookie, "the store is the source of truth"
