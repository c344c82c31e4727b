"""The value-analytics tables (issue 16): the shop's business events; part of the
schema :mod:`kindbot.storage.schema` assembles.

Money is stored as integer minor units (fen for CNY) beside its ISO 4217
currency, never as a float: sums are exact on every backend.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from kindbot.storage.schema_base import BigId, UTCDateTime, metadata, tenant_column

business_events = Table(
    "business_events",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    tenant_column(),
    # The shop's own id: unique per tenant, so a repeated import is ignored.
    Column("event_id", String(200), nullable=False),
    # order | refund | signup | a custom [a-z][a-z0-9_]* type.
    Column("type", String(64), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("contact_id", String(32), ForeignKey("contacts.id"), nullable=False),
    # The contact's channel (copied: the metrics filter by channel without a join).
    Column("channel_id", String(32), ForeignKey("channels.id"), nullable=False),
    # Integer minor units of ``currency`` (NULL: the event carries no amount).
    Column("amount_minor", BigInteger, nullable=True),
    Column("currency", String(3), nullable=True),
    # The order an ``order`` event is, or the order a ``refund`` refunds.
    Column("order_id", String(200), nullable=True),
    # A JSON object (at most 4 KiB) or NULL.
    Column("properties_json", Text, nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "event_id"),
    # Orders and refunds in a range (revenue; first orders).
    Index("ix_business_events_tenant_type_at", "tenant_id", "type", "occurred_at"),
    # One contact's events in time order, with their type: any before a time (first
    # seen), its first or next order, answered from the index alone.
    Index(
        "ix_business_events_tenant_contact_at_type",
        "tenant_id",
        "contact_id",
        "occurred_at",
        "type",
    ),
    # Who was active in a range, answered from the index alone (activity of any type).
    Index("ix_business_events_tenant_at_contact", "tenant_id", "occurred_at", "contact_id"),
)
