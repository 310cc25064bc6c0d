"""PostgreSQL's LISTEN/NOTIFY for the event log: how a write tells every host at once.

On PostgreSQL, every write transaction that appends an event also sends
``NOTIFY`` on :data:`CHANNEL` (:func:`announce`, called by :mod:`.events`).
PostgreSQL delivers a notification exactly when its transaction commits, and
never if it rolls back, so a listener woken by it always finds the event in the
log; several notifications of one transaction arrive as one. The channel server
of every host listens (:mod:`flask_modular_login.channel.pg_listen`) and reads
the log at once, instead of at its next poll. Notifications carry nothing: the
log, read after the listener's cursor, says what happened.

On SQLite (one machine) nothing is sent: the service's notifier and polling
reach the channel server of the same machine.
"""

from __future__ import annotations

from sqlalchemy import URL, Connection

CHANNEL = "flask_modular_login_events"
"""The notification channel (per database: hosts sharing another database do not hear it)."""


def announce(conn: Connection) -> None:
    """In the caller's write transaction: wake every listener when it commits (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"NOTIFY {CHANNEL}")


def listen_dsn(url: URL) -> str:
    """The libpq connection string (a URI) of the SQLAlchemy ``url``, for a listening
    connection of its own. It holds the password, if any: never log it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
