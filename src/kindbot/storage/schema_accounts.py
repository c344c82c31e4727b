"""Dashboard accounts (migration 0021): users, memberships, browser sessions, invitations.

These are platform-wide, not a tenant's data: a person may belong to several
tenants (``memberships`` names each tenant and the role there), so ``users``
and ``web_sessions`` are the schema's tables without ``tenant_id`` besides
``tenants`` itself. Part of the schema :mod:`kindbot.storage.schema` assembles.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from kindbot.storage.schema_base import UTCDateTime, id_column, metadata, tenant_column

users = Table(
    "users",
    metadata,
    id_column(),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("platform_admin", Boolean, nullable=False),
    Column("locale", String(10), nullable=True),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False),
    tenant_column(),
    Column("role", String(20), nullable=False),
    Column("agent_id", String(32), ForeignKey("agents.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("user_id", "tenant_id"),
    Index("ix_memberships_tenant_id", "tenant_id"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_web_sessions_user_id", "user_id"),
)

invitations = Table(
    "invitations",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    tenant_column(),
    Column("email", String(254), nullable=False),
    Column("role", String(20), nullable=False),
    Column("invited_by", String(32), ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("accepted_at", UTCDateTime, nullable=True),
    Index("ix_invitations_tenant_id", "tenant_id"),
)
