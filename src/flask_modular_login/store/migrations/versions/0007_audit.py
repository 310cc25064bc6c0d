"""audit: who did what to whose account (logins, sessions ended, invites, members, identities)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.String(32)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(1000), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_user_id", "audit", ["user_id", "created_at"])
    op.create_index("ix_audit_created_at", "audit", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_created_at", "audit")
    op.drop_index("ix_audit_user_id", "audit")
    op.drop_table("audit")
