"""The schema, as SQLAlchemy Core tables. Change it only together with a migration."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = BigInteger().with_variant(Integer(), "sqlite")
"""Growing ids: 64-bit (PostgreSQL's bigserial); on SQLite an ``INTEGER PRIMARY KEY``
(its rowid, 64-bit too)."""

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("picture", String(2000)),
    Column("created_at", BigInteger, nullable=False),
)

identities = Table(
    "identities",
    metadata,
    Column("provider", String(64), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_identities_user_id", "user_id"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("handle", String(16), nullable=False, unique=True),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("auth_time", BigInteger, nullable=False),
    Column("lease_start", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("ip", String(64)),
    Column("user_agent", String(512)),
    Column("revoked_at", BigInteger),
    # The latest expiry of any lease issued for the session (whoever issued it).
    Column("leases_end", BigInteger, nullable=False),
    Index("ix_sessions_user_id", "user_id"),
)

events = Table(
    "events",
    metadata,
    # The cursor: ids only grow, so "everything after n" is one indexed range.
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("session_id", String(64)),
    # For "revoked": when the last lease of the session runs out (kept until then).
    Column("leases_end", BigInteger),
    Column("user_id", String(32)),
    Column("group_path", String(1000)),
    # For "client_revoked": the channel client cut off (the channel server closes it).
    Column("client", String(64)),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_events_leases_end", "leases_end"),
    Index("ix_events_created_at", "created_at"),
)

# ---------------------------------------------------------------- access groups

access_groups = Table(
    "access_groups",
    metadata,
    Column("path", String(1000), primary_key=True),
    Column("root", String(255), nullable=False),
    Column("parent", String(1000)),
    Column("created_at", BigInteger, nullable=False),
)

group_owners = Table(
    "group_owners",
    metadata,
    Column("group_path", String(1000), primary_key=True),
    Column("provider", String(64), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Index("ix_group_owners_identity", "provider", "subject"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("group_path", String(1000), primary_key=True),
    Column("expires", Float),
    Column("spots", Integer),
    Column("depth", Integer),
    Column("removal", Integer, nullable=False),
    Column("deplete", Boolean, nullable=False),
    Column("inviters", String(4000), nullable=False),
    Column("invite_id", String(64)),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_memberships_group_path", "group_path"),
)

invites = Table(
    "invites",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("short_code", String(64), nullable=False, unique=True),
    Column("inviter_id", String(32), nullable=False),
    Column("group_path", String(1000), nullable=False),
    Column("accept_by", Float, nullable=False),
    Column("accepts", Integer),
    Column("uses", Integer, nullable=False),
    Column("spots", Integer),
    Column("depth", Integer),
    Column("access_expires", Float),
    Column("access_for", Float),
    Column("removal", Integer, nullable=False),
    Column("deplete", Boolean, nullable=False),
    Column("redirect", String(2048)),
    Column("confirm", Boolean, nullable=False),
    Column("revoked_at", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_invites_inviter_id", "inviter_id"),
    Index("ix_invites_group_path", "group_path"),
)

redemptions = Table(
    "redemptions",
    metadata,
    Column("invite_id", String(64), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Column("redeemed_at", BigInteger, nullable=False),
)

channel_clients = Table(
    "channel_clients",
    metadata,
    Column("name", String(64), primary_key=True),
    # SHA-256 derivation of the credential's secret (core.protocol.auth.client_key), in hex:
    # it proves the client's identity, so it is kept as secret as the credential.
    Column("key", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

audit = Table(
    "audit",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("created_at", BigInteger, nullable=False),
    # Whose event it is (the sessions page shows a user theirs); no foreign key: the
    # trail outlives the user.
    Column("user_id", String(32), nullable=False),
    # Who did it (the user, another user such as a remover, or None: an operator).
    Column("actor_id", String(32)),
    Column("kind", String(32), nullable=False),
    # Short JSON: group, session handles, provider, invite id; never a secret.
    Column("detail", String(1000), nullable=False),
    Column("ip", String(64)),
    Index("ix_audit_user_id", "user_id", "created_at"),
    Index("ix_audit_created_at", "created_at"),
)
