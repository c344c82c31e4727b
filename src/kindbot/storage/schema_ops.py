"""The guard's, operations' and dialogue's tables (counters, tags, broadcasts,
deferred sends, violations, API keys, moderation terms, KB settings, agents,
handoffs, conversation notes, flows); part of the schema :mod:`kindbot.storage.schema` assembles."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.expression import false

from kindbot.storage.schema_base import UTCDateTime, id_column, metadata, tenant_column

# Proactive send counters (per contact per day/month, per tenant per day, per
# channel per second). Keys embed their period, so an expired row is only
# garbage; ``expires_at`` lets a sweeper remove it.
guard_counters = Table(
    "guard_counters",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_guard_counters_expires", "expires_at"),
)

contact_tags = Table(
    "contact_tags",
    metadata,
    tenant_column(),
    Column("contact_id", String(32), ForeignKey("contacts.id"), nullable=False),
    Column("tag", String(64), nullable=False),
    UniqueConstraint("contact_id", "tag"),
    # A tag's contacts, answered from the index alone (broadcasts, segments).
    Index("ix_contact_tags_tenant_tag_contact", "tenant_id", "tag", "contact_id"),
)

# A broadcast: one message for a topic to a tag of contacts, decided per recipient.
broadcasts = Table(
    "broadcasts",
    metadata,
    id_column(),
    tenant_column(),
    Column("topic", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("tag", String(64), nullable=False),
    Column("recipients", Integer, nullable=False),
    Column("status", String(24), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("approved_by", String(100), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Proactive sends the guard deferred (quiet hours, rate limits): re-decided when due.
deferred_sends = Table(
    "deferred_sends",
    metadata,
    id_column(),
    tenant_column(),
    Column("channel_id", String(32), ForeignKey("channels.id"), nullable=False),
    Column("contact_id", String(32), ForeignKey("contacts.id"), nullable=False),
    Column("topic", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("broadcast_id", String(32), nullable=True),
    Column("status", String(16), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_deferred_sends_due", "status", "due_at"),
    # One contact's held sends (its timeline; export and erasure), migration 0023.
    Index("ix_deferred_sends_contact", "contact_id", "created_at"),
)

# Denials with a severity: the rolling violation score sums their weights.
violations = Table(
    "violations",
    metadata,
    id_column(),
    tenant_column(),
    Column("at", UTCDateTime, nullable=False),
    Column("rule", String(32), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("weight", Integer, nullable=False),
    Column("subject", String(200), nullable=False),
    Column("forgiven", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_violations_tenant_at", "tenant_id", "at"),
)

# Tenants' API keys: only the SHA-256 of a key is stored; ``prefix`` is its
# public start (shown in listings, used to find the row before comparing hashes).
api_keys = Table(
    "api_keys",
    metadata,
    id_column(),
    tenant_column(),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("label", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_api_keys_tenant", "tenant_id"),
)

# Moderation lexicon edits: tenant_id NULL is the platform's own lexicon.
moderation_terms = Table(
    "moderation_terms",
    metadata,
    id_column(),
    Column("tenant_id", String(32), ForeignKey("tenants.id"), nullable=True),
    Column("term", String(100), nullable=False),
    Column("category", String(16), nullable=True),
    Column("action", String(8), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
    Index("ix_moderation_terms_tenant_term", "tenant_id", "term"),
)

# One row per edited scope ("platform" or a tenant id); bumped on every edit.
moderation_generations = Table(
    "moderation_generations",
    metadata,
    Column("scope", String(32), primary_key=True),
    Column("generation", Integer, nullable=False),
)

# Knowledge-base settings (migration 0006): the tenant's synonym groups and
# the threshold chosen by ``kindbot kb tune``.
kb_synonyms = Table(
    "kb_synonyms",
    metadata,
    tenant_column(),
    Column("position", Integer, nullable=False),
    Column("terms_json", Text, nullable=False),
    UniqueConstraint("tenant_id", "position"),
)

kb_tuning = Table(
    "kb_tuning",
    metadata,
    tenant_column(),
    Column("threshold", Float, nullable=False),
    Column("cases", Integer, nullable=False),
    Column("accuracy", Float, nullable=False),
    Column("tuned_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id"),
)

# Sentence vectors of the knowledge base's texts (migration 0016), by the
# encoder's name and the SHA-256 of the exact text: a cache that outlives
# restarts, never part of ``kb_version``.
kb_vectors = Table(
    "kb_vectors",
    metadata,
    Column("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False),
    Column("model", String(100), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
    PrimaryKeyConstraint("tenant_id", "model", "digest"),
)

# What a full knowledge-base build learned (migration 0017): one row per tenant and
# model key (the sentence encoder's name, or ``words``), for the newest version
# fitted. While ``payload`` is NULL the row is a lease: ``holder`` is fitting
# ``kb_version`` until ``lease_until``; others wait for it instead of fitting too.
kb_models = Table(
    "kb_models",
    metadata,
    Column("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False),
    Column("model_key", String(100), nullable=False),
    Column("kb_version", Integer, nullable=False),
    Column("holder", String(64), nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("payload", LargeBinary, nullable=True),
    PrimaryKeyConstraint("tenant_id", "model_key"),
)

# Human handoff (migration 0008): a tenant's agents, and one row per handed-off
# conversation (who has it, when, the satisfaction rating). The conversation's
# state itself stays in ``conversations.state``.
agents = Table(
    "agents",
    metadata,
    id_column(),
    tenant_column(),
    Column("name", String(100), nullable=False),
    Column("online", Boolean, nullable=False),
    Column("last_assigned_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "name"),
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("conversation_id", String(32), ForeignKey("conversations.id"), primary_key=True),
    tenant_column(),
    Column("contact_id", String(32), nullable=False),
    Column("agent_id", String(32), ForeignKey("agents.id"), nullable=True),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("assigned_at", UTCDateTime, nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("rating", Integer, nullable=True),
    Column("rating_open", Boolean, nullable=False),
    Index("ix_handoffs_tenant_agent", "tenant_id", "agent_id"),
    Index("ix_handoffs_contact_rating", "contact_id", "rating_open"),
)

# Internal notes on handed-off conversations (migration 0022): the shop's people
# see them beside the chat; nothing here is ever sent to the contact.
conversation_notes = Table(
    "conversation_notes",
    metadata,
    id_column(),
    tenant_column(),
    Column("conversation_id", String(32), ForeignKey("conversations.id"), nullable=False),
    Column("author", String(254), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_conversation_notes_conversation", "conversation_id", "created_at"),
)

# Multi-turn flows (migration 0010): a tenant's flow definitions (the bundle's
# ``flows:`` as JSON, its ``endpoints:`` sealed with the server key) and one
# row per conversation that is in a flow (its state, collected slots as JSON).
tenant_flows = Table(
    "tenant_flows",
    metadata,
    Column("tenant_id", String(32), ForeignKey("tenants.id"), primary_key=True),
    Column("flows_json", Text, nullable=False),
    Column("endpoints_sealed", Text, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

flow_states = Table(
    "flow_states",
    metadata,
    Column("conversation_id", String(32), ForeignKey("conversations.id"), primary_key=True),
    tenant_column(),
    Column("contact_id", String(32), nullable=False),
    Column("flow", String(64), nullable=False),
    Column("state", String(64), nullable=False),
    Column("slots_json", Text, nullable=False),
    Column("retries", Integer, nullable=False),
    Column("language", String(8), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_flow_states_contact_id", "contact_id"),
)
