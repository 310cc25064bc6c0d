"""access groups, owners, memberships, invites, access events

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_groups",
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("root", sa.String(255), nullable=False),
        sa.Column("parent", sa.String(1000)),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("path", name="pk_access_groups"),
    )
    op.create_table(
        "group_owners",
        sa.Column("group_path", sa.String(1000), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("group_path", "provider", "subject", name="pk_group_owners"),
    )
    op.create_index("ix_group_owners_identity", "group_owners", ["provider", "subject"])
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("group_path", sa.String(1000), nullable=False),
        sa.Column("expires", sa.Float),
        sa.Column("spots", sa.Integer),
        sa.Column("depth", sa.Integer),
        sa.Column("removal", sa.Integer, nullable=False),
        sa.Column("deplete", sa.Boolean, nullable=False),
        sa.Column("inviters", sa.String(4000), nullable=False),
        sa.Column("invite_id", sa.String(64)),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "group_path", name="pk_memberships"),
    )
    op.create_index("ix_memberships_group_path", "memberships", ["group_path"])
    op.create_table(
        "invites",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("short_code", sa.String(64), nullable=False),
        sa.Column("inviter_id", sa.String(32), nullable=False),
        sa.Column("group_path", sa.String(1000), nullable=False),
        sa.Column("accept_by", sa.Float, nullable=False),
        sa.Column("accepts", sa.Integer),
        sa.Column("uses", sa.Integer, nullable=False),
        sa.Column("spots", sa.Integer),
        sa.Column("depth", sa.Integer),
        sa.Column("access_expires", sa.Float),
        sa.Column("access_for", sa.Float),
        sa.Column("removal", sa.Integer, nullable=False),
        sa.Column("deplete", sa.Boolean, nullable=False),
        sa.Column("redirect", sa.String(2048)),
        sa.Column("confirm", sa.Boolean, nullable=False),
        sa.Column("revoked_at", sa.BigInteger),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_invites"),
        sa.UniqueConstraint("short_code", name="uq_invites_short_code"),
    )
    op.create_index("ix_invites_inviter_id", "invites", ["inviter_id"])
    op.create_index("ix_invites_group_path", "invites", ["group_path"])
    op.create_table(
        "access_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("group_path", sa.String(1000), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_events"),
    )


def downgrade() -> None:
    op.drop_table("access_events")
    op.drop_index("ix_invites_group_path", "invites")
    op.drop_index("ix_invites_inviter_id", "invites")
    op.drop_table("invites")
    op.drop_index("ix_memberships_group_path", "memberships")
    op.drop_table("memberships")
    op.drop_index("ix_group_owners_identity", "group_owners")
    op.drop_table("group_owners")
    op.drop_table("access_groups")
