"""events: one log of revocations and membership changes, with one cursor

Revision ID: 0005
Revises: 0004

Replaces ``revocations`` and ``access_events``: their rows move into ``events``
in the order they were written (by time, revocations first within one second),
so a client's catch-up is one number. Cursors held by running clients of the
older version mean nothing in the new log: stop every process sharing the
database before upgrading (docs/deployment.md).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_MERGED = """
INSERT INTO events (kind, session_id, leases_end, user_id, group_path, created_at)
SELECT kind, session_id, leases_end, user_id, group_path, created_at FROM (
    SELECT 'revoked' AS kind, session_id, leases_end, NULL AS user_id, NULL AS group_path,
           created_at, 0 AS source, id FROM revocations
    UNION ALL
    SELECT kind, NULL, NULL, user_id, group_path, created_at, 1, id FROM access_events
) AS merged ORDER BY created_at, source, id
"""


def upgrade() -> None:
    op.create_table(
        "events",
        # 64-bit: bigserial on PostgreSQL; SQLite's INTEGER PRIMARY KEY (its rowid) as before.
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("session_id", sa.String(64)),
        sa.Column("leases_end", sa.BigInteger),
        sa.Column("user_id", sa.String(32)),
        sa.Column("group_path", sa.String(1000)),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_leases_end", "events", ["leases_end"])
    op.create_index("ix_events_created_at", "events", ["created_at"])
    op.execute(_MERGED)
    op.drop_index("ix_revocations_leases_end", "revocations")
    op.drop_table("revocations")
    op.drop_table("access_events")


def downgrade() -> None:
    op.create_table(
        "revocations",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("leases_end", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_revocations"),
    )
    op.create_index("ix_revocations_leases_end", "revocations", ["leases_end"])
    op.create_table(
        "access_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("group_path", sa.String(1000), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_events"),
    )
    op.execute("INSERT INTO revocations (session_id, reason, created_at, leases_end) "
               "SELECT session_id, 'revoked', created_at, leases_end FROM events "
               "WHERE kind = 'revoked' ORDER BY id")
    op.execute("INSERT INTO access_events (user_id, group_path, kind, created_at) "
               "SELECT user_id, group_path, kind, created_at FROM events "
               "WHERE kind <> 'revoked' ORDER BY id")
    op.drop_index("ix_events_created_at", "events")
    op.drop_index("ix_events_leases_end", "events")
    op.drop_table("events")
