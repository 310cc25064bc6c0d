"""redemptions: who redeemed which invite (a person redeems an invite at most once)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "redemptions",
        sa.Column("invite_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("redeemed_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("invite_id", "user_id", name="pk_redemptions"),
    )
    # Memberships joined before this revision were redeemed by their holders.
    op.execute(
        "INSERT INTO redemptions (invite_id, user_id, redeemed_at) "
        "SELECT invite_id, user_id, created_at FROM memberships WHERE invite_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("redemptions")
