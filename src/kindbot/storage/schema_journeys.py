"""The journeys' tables (migration 0026): a shop's declared follow-ups and each contact's
run of one; part of the schema :mod:`kindbot.storage.schema` assembles."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from kindbot.storage.schema_base import UTCDateTime, id_column, metadata, tenant_column

# A journey: trigger, delay, optional segment condition, consent topic and message.
# Only what happens after ``declared_at`` (set again when the trigger changes)
# starts it.
journeys = Table(
    "journeys",
    metadata,
    id_column(),
    tenant_column(),
    Column("name", String(64), nullable=False),
    Column("trigger_kind", String(16), nullable=False),
    Column("trigger_value", String(64), nullable=True),
    Column("delay_seconds", Integer, nullable=False),
    Column("segment", String(64), nullable=True),
    Column("topic", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("declared_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "name"),
)

# One contact's run of a journey (at most one per contact and journey): scheduled
# until ``due_at``, then sent / deferred / skipped / denied / cancelled, with why.
journey_runs = Table(
    "journey_runs",
    metadata,
    id_column(),
    tenant_column(),
    Column("journey_id", String(32), ForeignKey("journeys.id"), nullable=False),
    Column("contact_id", String(32), ForeignKey("contacts.id"), nullable=False),
    Column("trigger_ref", String(200), nullable=False),
    Column("triggered_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(200), nullable=True),
    Column("message_id", String(32), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    UniqueConstraint("journey_id", "contact_id"),
    Index("ix_journey_runs_due", "status", "due_at"),
    Index("ix_journey_runs_contact", "contact_id"),
)
