"""A client app on the service's machine (LocalLoginInterface) renews expired leases against
the store itself: when the database refuses that write (busy, read-only, full), the app
answers 503 "retry" and keeps the cookie, never a 500 and never a logout; once the
database takes writes again, the same cookie renews."""

from __future__ import annotations

from sqlalchemy import event

LEASE = 15 * 60


def test_a_client_app_answers_503_when_its_renewal_cannot_be_written(
        service, login, interface, client, clock, caplog):
    client.set_cookie("login", login("alice"))
    assert client.get("/hidden").status_code == 200
    engine = interface.store.engine

    def query_only(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    event.listen(engine, "connect", query_only)
    engine.dispose()
    clock.advance(LEASE + 60)
    try:
        refused = client.get("/hidden")
        assert refused.status_code == 503, refused.text
        assert refused.json["error"] == "unavailable"
        assert "login=" not in refused.headers.get("Set-Cookie", ""), "the cookie was touched"
    finally:
        event.remove(engine, "connect", query_only)
        engine.dispose()
    assert "lease renewal failed: the user database: OperationalError" in caplog.text
    renewed = client.get("/hidden")
    assert renewed.status_code == 200
    assert "login=" in renewed.headers["Set-Cookie"]
