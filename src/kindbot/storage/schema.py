"""The relational schema (SQLAlchemy Core tables), shared by every SQL backend.

Every table carries ``tenant_id``. Alembic migrations in ``migrations/``
create exactly this schema; a test compares the two. This module defines the
messaging tables (tenants, channels, contacts, conversations, messages,
knowledge, outbox, audit, consents, platform tokens, nonces and cursors) and
is the one place to import any table from: the guard's, operations' and
dialogue's tables live in :mod:`kindbot.storage.schema_ops`, the shared
column types in :mod:`kindbot.storage.schema_base`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.expression import true

from kindbot.storage.schema_accounts import invitations, memberships, users, web_sessions
from kindbot.storage.schema_base import BigId, UTCDateTime, id_column, metadata, tenant_column
from kindbot.storage.schema_campaigns import campaign_recipients, campaigns
from kindbot.storage.schema_directory import attribute_definitions, contact_attributes
from kindbot.storage.schema_events import business_events
from kindbot.storage.schema_journeys import journey_runs, journeys
from kindbot.storage.schema_ops import (
    agents,
    api_keys,
    broadcasts,
    contact_tags,
    conversation_notes,
    deferred_sends,
    flow_states,
    guard_counters,
    handoffs,
    kb_models,
    kb_synonyms,
    kb_tuning,
    kb_vectors,
    moderation_generations,
    moderation_terms,
    tenant_flows,
    violations,
)
from kindbot.storage.schema_segments import segments

__all__ = [
    "UTCDateTime",
    "access_tokens",
    "agents",
    "api_keys",
    "attribute_definitions",
    "audit_entries",
    "audit_heads",
    "audit_pending",
    "broadcasts",
    "business_events",
    "callback_nonces",
    "campaign_recipients",
    "campaigns",
    "channels",
    "consents",
    "contact_attributes",
    "contact_tags",
    "contacts",
    "conversation_notes",
    "conversations",
    "deferred_sends",
    "flow_states",
    "guard_counters",
    "handoffs",
    "invitations",
    "journey_runs",
    "journeys",
    "kb_models",
    "kb_synonyms",
    "kb_tuning",
    "kb_vectors",
    "kf_cursors",
    "knowledge_entries",
    "memberships",
    "messages",
    "metadata",
    "moderation_generations",
    "moderation_terms",
    "outbox",
    "segments",
    "tenant_flows",
    "tenants",
    "users",
    "violations",
    "web_sessions",
]


tenants = Table(
    "tenants",
    metadata,
    id_column(),
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
    # The bundle's ``service_hours:`` as JSON (dialogue.service_hours); NULL = none.
    Column("service_hours_json", Text, nullable=True),
    # Bumped in the same transaction by every write that changes what a process
    # caches of the tenant (this row, its channels, flows, knowledge base):
    # storage/revisions.py; pipeline/tenant_cache.py.
    Column("revision", Integer, nullable=False, server_default="0"),
)

channels = Table(
    "channels",
    metadata,
    id_column(),
    tenant_column(),
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
    id_column(),
    tenant_column(),
    Column("channel_id", String(32), ForeignKey("channels.id"), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("display_name", String(200), nullable=True),
    Column("is_test", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("followed", Boolean, nullable=False, default=True, server_default=true()),
    Column("follow_changed_at", UTCDateTime, nullable=True),
    # When the contact last opted out by message (STOP, 退订); cleared by its opt-in keyword.
    Column("opted_out_at", UTCDateTime, nullable=True),
    # How kindbot first learned of the contact: ``message`` (its own message, the
    # default) or ``event`` (named by an imported business event; no consent implied).
    Column("source", String(16), nullable=False, server_default="message"),
    UniqueConstraint("channel_id", "external_id"),
    # A tenant's contacts, newest first (the contact list, and journeys started by a
    # contact's first message; migration 0023).
    Index("ix_contacts_tenant_created", "tenant_id", "created_at"),
)

conversations = Table(
    "conversations",
    metadata,
    id_column(),
    tenant_column(),
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
    tenant_column(),
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
    # An inbound text searched in the knowledge base as a question (``kb unanswered``);
    # NULL on messages stored before migration 0015 (unknown: still reviewed).
    Column("kb_asked", Boolean, nullable=True),
    # Where a bot message came from (``ReplyOrigin``: knowledge, fallback, agent, flow …;
    # migration 0027); NULL for inbound messages and for bot messages stored before it.
    Column("origin", String(16), nullable=True),
    UniqueConstraint("channel_id", "idempotency_key"),
    Index("ix_messages_conversation", "conversation_id", "seq"),
    Index("ix_messages_status_created", "status", "created_at"),
    # One contact's messages in time order (its timeline; export and erasure), its
    # latest inbound one (the contact list's "last active") and its inbound ones for
    # segments (last inbound, first seen), answered from the index; migration 0023.
    Index("ix_messages_contact_direction_at", "contact_id", "direction", "created_at"),
)

knowledge_entries = Table(
    "knowledge_entries",
    metadata,
    tenant_column(),
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
    id_column(),
    tenant_column(),
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
    # The claim token of a caller's hand-over (a passive reply, a response body);
    # kept after its confirmation, cleared when the outbox worker claims the row.
    Column("handover", String(32), nullable=True),
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

# Entries written but not yet chained (``guard/audit_sequencer.py``): content only.
# ``id`` is the insertion order the sequencer seals them in; a sealed entry's row
# moves to ``audit_entries`` in the transaction that moves the head.
audit_pending = Table(
    "audit_pending",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant_id", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("rule", String(32), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_audit_pending_tenant", "tenant_id", "id"),
)

consents = Table(
    "consents",
    metadata,
    id_column(),
    tenant_column(),
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
    tenant_column(),
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
    tenant_column(),
    Column("channel_id", String(32), ForeignKey("channels.id"), nullable=False),
    Column("open_kfid", String(64), nullable=False),
    Column("cursor", String(200), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel_id", "open_kfid"),
)
