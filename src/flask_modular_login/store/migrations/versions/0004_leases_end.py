"""leases_end: when every lease of a session has run out, on sessions and revocations

Revision ID: 0004
Revises: 0003

``sessions.leases_end`` is the latest expiry of any lease issued for the session;
each revocation copies it, so clients keep a revocation exactly as long as a
lease of that session may still be presented, whatever their own lease setting.

Rows from before this revision get a safe bound: a session's end (no lease
outlives its session), or, for a revocation whose session is gone (its user was
removed), the revocation time plus the default session life.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("leases_end", sa.BigInteger))
    op.execute("UPDATE sessions SET leases_end = expires_at")
    with op.batch_alter_table("sessions") as batch:
        batch.alter_column("leases_end", existing_type=sa.BigInteger, nullable=False)

    with op.batch_alter_table("revocations") as batch:
        batch.add_column(sa.Column("leases_end", sa.BigInteger))
    op.execute(
        "UPDATE revocations SET leases_end = COALESCE("
        "(SELECT sessions.expires_at FROM sessions WHERE sessions.id = revocations.session_id), "
        "revocations.created_at + 2592000)"  # the default session life, 30 days
    )
    with op.batch_alter_table("revocations") as batch:
        batch.alter_column("leases_end", existing_type=sa.BigInteger, nullable=False)
    op.create_index("ix_revocations_leases_end", "revocations", ["leases_end"])


def downgrade() -> None:
    op.drop_index("ix_revocations_leases_end", "revocations")
    with op.batch_alter_table("revocations") as batch:
        batch.drop_column("leases_end")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("leases_end")
