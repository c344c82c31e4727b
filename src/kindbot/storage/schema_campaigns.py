"""The campaigns' tables (issue 16 §4): campaigns and their recipients; part of the
schema :mod:`kindbot.storage.schema` assembles.

Every recipient — messaged or held out — is a row of ``campaign_recipients``
written when the campaign is created, before anything is sent: the holdout is
recorded, never computed after the fact.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from kindbot.storage.schema_base import UTCDateTime, id_column, metadata, tenant_column

campaigns = Table(
    "campaigns",
    metadata,
    id_column(),
    tenant_column(),
    Column("name", String(200), nullable=False),
    Column("topic", String(64), nullable=False),
    # tag | contacts | segment; ``audience_name`` the tag or segment (NULL for contacts).
    Column("audience_kind", String(16), nullable=False),
    Column("audience_name", String(200), nullable=True),
    # A JSON array of {"name", "text", "weight"}.
    Column("variants_json", Text, nullable=False),
    # The holdout share in basis points (1000 = 10 %), exact on every backend.
    Column("holdout_bp", Integer, nullable=False),
    Column("attribution_days", Integer, nullable=False),
    Column("starts_at", UTCDateTime, nullable=True),
    Column("per_minute", Integer, nullable=True),
    Column("status", String(24), nullable=False),
    Column("recipients", Integer, nullable=False),
    Column("treatment", Integer, nullable=False),
    Column("created_by", String(254), nullable=False),
    Column("approved_by", String(254), nullable=True),
    Column("cancelled_by", String(254), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_campaigns_tenant_created", "tenant_id", "created_at"),
    # The worker's question: which campaigns are due or sending.
    Index("ix_campaigns_status", "status"),
)

campaign_recipients = Table(
    "campaign_recipients",
    metadata,
    Column("campaign_id", String(32), ForeignKey("campaigns.id"), nullable=False),
    tenant_column(),
    Column("contact_id", String(32), ForeignKey("contacts.id"), nullable=False),
    # treatment | holdout
    Column("arm", String(16), nullable=False),
    # The content variant's name (NULL in the holdout).
    Column("variant", String(64), nullable=True),
    # planned | sent | deferred | denied | holdout | skipped
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("decided_at", UTCDateTime, nullable=False),
    Column("attempted_at", UTCDateTime, nullable=True),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("message_id", String(32), nullable=True),
    Column("deferred_id", String(32), nullable=True),
    PrimaryKeyConstraint("campaign_id", "contact_id"),
    # The worker's next batch, and the counts per status.
    Index("ix_campaign_recipients_status", "campaign_id", "status"),
    # A deferred send settling finds its recipient.
    Index("ix_campaign_recipients_deferred", "deferred_id"),
    # Erasure finds a contact's rows.
    Index("ix_campaign_recipients_contact", "contact_id"),
)
