"""The relational schema (SQLAlchemy Core tables), shared by every SQL backend.

Every table carries ``tenant_id``. Alembic migrations in ``migrations/``
create exactly this schema; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.expression import false, true
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use UTC-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _id() -> Column[str]:
    return Column("id", String(32), primary_key=True)


def _tenant() -> Column[str]:
    return Column("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False)


tenants = Table(
    "tenants",
    metadata,
    _id(),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("industry", String(64), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("language", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("kb_threshold", Float, nullable=True),
    Column("kb_version", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    # The bundle's ``guard:`` settings (JSON; NULL = platform defaults).
    Column("guard_json", Text, nullable=True),
    # ok | warning | throttled (suspension is ``status``): the violation standing.
    Column("standing", String(16), nullable=False, server_default="ok"),
    # The bundle's ``handlers:`` (a JSON list of module names; NULL = none).
    Column("handlers_json", Text, nullable=True),
    # The bundle's ``llm:`` settings as JSON, sealed with the server key (it
    # holds the endpoint's API key); NULL = generative answers off.
    Column("llm_sealed", Text, nullable=True),
)

channels = Table(
    "channels",
    metadata,
    _id(),
    _tenant(),
    Column("public_id", String(140), nullable=False, unique=True),
    Column("local_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("config_sealed", Text, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    UniqueConstraint("tenant_id", "local_id"),
)

contacts = Table(
    "contacts",
    metadata,
    _id(),
    _tenant(),
    Column("channel_id", String(32), ForeignKey("channels.id"), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("display_name", String(200), nullable=True),
    Column("is_test", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("followed", Boolean, nullable=False, default=True, server_default=true()),
    Column("follow_changed_at", UTCDateTime, nullable=True),
    # When the contact last opted out by message (STOP, 退订); cleared by its opt-in keyword.
    Column("opted_out_at", UTCDateTime, nullable=True),
    UniqueConstraint("channel_id", "external_id"),
)

conversations = Table(
    "conversations",
    metadata,
    _id(),
    _tenant(),
    Column("channel_id", String(32), ForeignKey("channels.id"), nullable=False),
    Column("contact_id", String(32), ForeignKey("contacts.id"), nullable=False),
    Column("state", String(16), nullable=False),
    # 'open' while not resolved, NULL after: at most one open conversation per contact.
    Column("open_slot", String(8), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_inbound_at", UTCDateTime, nullable=True),
    UniqueConstraint("channel_id", "contact_id", "open_slot"),
)

messages = Table(
    "messages",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    _tenant(),
    Column("channel_id", String(32), ForeignKey("channels.id"), nullable=False),
    Column("conversation_id", String(32), ForeignKey("conversations.id"), nullable=False),
    Column("contact_id", String(32), ForeignKey("contacts.id"), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("idempotency_key", String(200), nullable=True),
    Column("status", String(16), nullable=False),
    Column("reply_to_id", String(32), nullable=True),
    Column("generated", Boolean, nullable=False, default=False),
    Column("event", String(64), nullable=True),
    Column("event_key", String(200), nullable=True),
    # A generated reply's grounding: the knowledge entry ids (JSON list; NULL = none).
    Column("source_entry_ids_json", Text, nullable=True),
    UniqueConstraint("channel_id", "idempotency_key"),
    Index("ix_messages_conversation", "conversation_id", "seq"),
    Index("ix_messages_status_created", "status", "created_at"),
)

knowledge_entries = Table(
    "knowledge_entries",
    metadata,
    _tenant(),
    Column("entry_id", String(64), nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("similar_json", Text, nullable=False),
    Column("tags_json", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "entry_id"),
)

outbox = Table(
    "outbox",
    metadata,
    _id(),
    _tenant(),
    Column("channel_id", String(32), ForeignKey("channels.id"), nullable=False),
    Column("contact_id", String(32), ForeignKey("contacts.id"), nullable=False),
    Column("message_id", String(32), nullable=False, unique=True),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Index("ix_outbox_due", "status", "next_attempt_at"),
)

# Audit entries are not foreign-keyed to tenants: platform-level entries use
# tenant_id "platform", and the log must outlive anything it talks about.
audit_entries = Table(
    "audit_entries",
    metadata,
    Column("tenant_id", String(32), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("rule", String(32), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("tenant_id", "seq"),
)

audit_heads = Table(
    "audit_heads",
    metadata,
    Column("tenant_id", String(32), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

consents = Table(
    "consents",
    metadata,
    _id(),
    _tenant(),
    Column("contact_id", String(32), ForeignKey("contacts.id"), nullable=False),
    Column("channel_id", String(32), ForeignKey("channels.id"), nullable=False),
    Column("topic", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("source", String(200), nullable=False),
    Column("wording", Text, nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
    Column("withdrawn_at", UTCDateTime, nullable=True),
    Index("ix_consents_contact", "contact_id", "status"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False),
    Column("token", Text, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
)

callback_nonces = Table(
    "callback_nonces",
    metadata,
    _tenant(),
    Column("channel_id", String(32), ForeignKey("channels.id"), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("timestamp", String(20), nullable=False),
    Column("fingerprint", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel_id", "nonce", "timestamp"),
    Index("ix_callback_nonces_created", "created_at"),
)

# Where each 微信客服 account's kf/sync_msg pull resumes (written after the
# page's messages were fed, so a crash re-pulls and the pipeline dedupes).
kf_cursors = Table(
    "kf_cursors",
    metadata,
    _tenant(),
    Column("channel_id", String(32), ForeignKey("channels.id"), nullable=False),
    Column("open_kfid", String(64), nullable=False),
    Column("cursor", String(200), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel_id", "open_kfid"),
)


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
    _tenant(),
    Column("contact_id", String(32), ForeignKey("contacts.id"), nullable=False),
    Column("tag", String(64), nullable=False),
    UniqueConstraint("contact_id", "tag"),
    Index("ix_contact_tags_tenant_tag", "tenant_id", "tag"),
)

# A broadcast: one message for a topic to a tag of contacts, decided per recipient.
broadcasts = Table(
    "broadcasts",
    metadata,
    _id(),
    _tenant(),
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
    _id(),
    _tenant(),
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
)

# Denials with a severity: the rolling violation score sums their weights.
violations = Table(
    "violations",
    metadata,
    _id(),
    _tenant(),
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
    _id(),
    _tenant(),
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
    _id(),
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
    _tenant(),
    Column("position", Integer, nullable=False),
    Column("terms_json", Text, nullable=False),
    UniqueConstraint("tenant_id", "position"),
)

kb_tuning = Table(
    "kb_tuning",
    metadata,
    _tenant(),
    Column("threshold", Float, nullable=False),
    Column("cases", Integer, nullable=False),
    Column("accuracy", Float, nullable=False),
    Column("tuned_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id"),
)

# Human handoff (migration 0008): a tenant's agents, and one row per handed-off
# conversation (who has it, when, the satisfaction rating). The conversation's
# state itself stays in ``conversations.state``.
agents = Table(
    "agents",
    metadata,
    _id(),
    _tenant(),
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
    _tenant(),
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
    _tenant(),
    Column("contact_id", String(32), nullable=False),
    Column("flow", String(64), nullable=False),
    Column("state", String(64), nullable=False),
    Column("slots_json", Text, nullable=False),
    Column("retries", Integer, nullable=False),
    Column("language", String(8), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_flow_states_contact_id", "contact_id"),
)
