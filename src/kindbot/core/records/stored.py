"""Stored records: what the storage Protocols return.

Contract module: imports nothing of ours. Every record carries the tenant it
belongs to; every record is frozen. Storage implementations translate their
rows into these types so that no layer above storage sees an ORM object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry of every audit chain."""


class TenantStatus(StrEnum):
    """Lifecycle of a tenant (the guard's tenant_status rule reads it)."""

    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Direction(StrEnum):
    """Which way a message travelled."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class InboundStatus(StrEnum):
    """Processing state of an inbound message.

    ``RECEIVED`` rows were stored but the pipeline has not yet committed the
    outcome (verdicts + outbox rows); they are resumed after a crash.
    """

    RECEIVED = "received"
    PROCESSED = "processed"


class OutboxStatus(StrEnum):
    """Delivery state of one outbound message.

    ``pending`` → ``handed_over`` (a caller — a passive reply, a response body —
    is handing it over under a claim token and a lease) → ``delivered`` once the
    caller confirms the response was sent; back to ``pending`` when the caller
    gives it back, or claimed by the outbox worker (``sending``) when its lease
    ran out unconfirmed. ``delivered`` means known to have left, nothing less.
    """

    PENDING = "pending"
    HANDED_OVER = "handed_over"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


RETRYING_CALLER = "r"
"""Hand-over claim tokens of callers that retry an unanswered request start with
this (:mod:`kindbot.pipeline.handover.passive`): only their unconfirmed hand-overs may be
settled as received."""


class ConversationState(StrEnum):
    """Who is handling a conversation."""

    BOT = "bot"
    WAITING = "waiting"
    HUMAN = "human"
    RESOLVED = "resolved"


class ConsentStatus(StrEnum):
    """State of one consent record."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class TenantRecord:
    """A business hosted on the platform."""

    id: str
    slug: str
    name: str
    industry: str
    timezone: str
    language: str
    status: TenantStatus
    kb_threshold: float | None
    created_at: datetime
    kb_version: int = 0
    """Bumped by every knowledge-base change (retrieval indexes are rebuilt on a change)."""
    guard_json: str | None = None
    """The bundle's ``guard:`` settings as JSON (None: platform defaults)."""
    standing: str = "ok"
    """Violation standing: ``ok``, ``warning`` or ``throttled`` (suspension is ``status``)."""
    handlers: tuple[str, ...] = ()
    """Python modules (each defining ``bot``) whose handlers answer before the knowledge base."""
    llm_sealed: str | None = field(default=None, repr=False)
    """The bundle's ``llm:`` settings, sealed (they hold a key); None: no generative answers."""
    service_hours_json: str | None = None
    """The bundle's ``service_hours:`` (:class:`kindbot.dialogue.service_hours.ServiceHours`
    JSON); None: not configured."""


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    """One channel of a tenant.

    ``public_id`` (``{tenant_slug}.{local_id}``) appears in URLs; ``config_sealed``
    is the channel's configuration JSON, encrypted with the server key; only
    the channel directory opens it.
    """

    id: str
    tenant_id: str
    public_id: str
    local_id: str
    kind: str
    config_sealed: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """An end user as seen through one channel."""

    id: str
    tenant_id: str
    channel_id: str
    external_id: str
    display_name: str | None
    is_test: bool
    created_at: datetime
    followed: bool = True
    opted_out_at: datetime | None = None
    """When the contact last opted out by message; only its own opt-in clears it."""


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """The running dialogue between one contact and the tenant on one channel."""

    id: str
    tenant_id: str
    channel_id: str
    contact_id: str
    state: ConversationState
    created_at: datetime
    last_inbound_at: datetime | None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One stored message, inbound or outbound.

    ``idempotency_key`` is the stored, fixed-length digest of the inbound
    event's key (``None`` for outbound messages); look messages up by the
    event's key with ``find_inbound``.
    """

    id: str
    tenant_id: str
    channel_id: str
    conversation_id: str
    contact_id: str
    direction: Direction
    kind: str
    text: str
    created_at: datetime
    idempotency_key: str | None
    status: str
    reply_to_id: str | None
    generated: bool
    event: str | None = None
    event_key: str | None = None
    source_entry_ids: tuple[str, ...] = ()
    """The knowledge entries a generated reply was grounded on (empty otherwise)."""


@dataclass(frozen=True, slots=True)
class KnowledgeEntry:
    """One FAQ entry: a question, its answer and other phrasings of it."""

    id: str
    question: str
    answer: str
    similar: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One outbound message waiting for (or past) delivery."""

    id: str
    tenant_id: str
    channel_id: str
    contact_id: str
    message_id: str
    text: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    handover: str | None = None
    """The claim token of the caller's hand-over that holds (or delivered) it;
    None after a worker's claim."""


@dataclass(frozen=True, slots=True)
class HandoverLease:
    """A caller's claim on replies it hands over itself: its token, and until when it holds them."""

    token: str
    until: datetime


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The end of a tenant's audit chain: the last sequence number and hash."""

    tenant_id: str
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One sealed, append-only audit entry.

    ``hash`` covers every other field including ``prev_hash``; see
    :func:`kindbot.guard.audit.seal`.
    """

    tenant_id: str
    seq: int
    at: datetime
    kind: str
    subject: str
    rule: str
    decision: str
    detail: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """A contact's consent to hear about one topic on one channel."""

    id: str
    tenant_id: str
    contact_id: str
    channel_id: str
    topic: str
    status: ConsentStatus
    source: str
    wording: str
    granted_at: datetime
    withdrawn_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token as issued by a platform, with its absolute expiry."""

    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CachedToken:
    """A stored access token and the refresh lease on it."""

    key: str
    token: str | None
    expires_at: datetime | None
    lease_until: datetime | None


@dataclass(frozen=True, slots=True)
class ConversationActivity:
    """Counts the guard's conversation rules need, read in one go.

    ``outbound_since_inbound`` counts bot messages after the contact's last
    inbound message (``last_inbound_at``); ``replies_to`` counts bot messages
    answering one given inbound message; ``outbound_since`` counts bot
    messages after a given time (the last minute).
    """

    outbound_total: int
    last_inbound_at: datetime | None
    last_inbound_kind: str | None
    outbound_since_inbound: int
    outbound_since: int
    replies_to: int


class DeferredStatus(StrEnum):
    """State of a deferred proactive send."""

    WAITING = "waiting"
    SENT = "sent"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class DeferredSend:
    """A proactive send the guard deferred; decided again when ``due_at`` comes."""

    id: str
    tenant_id: str
    channel_id: str
    contact_id: str
    topic: str
    text: str
    broadcast_id: str | None
    status: DeferredStatus
    due_at: datetime
    attempts: int
    created_at: datetime


class BroadcastStatus(StrEnum):
    """A broadcast waits for a second person's approval when it is big, then is sent."""

    AWAITING_APPROVAL = "awaiting_approval"
    SENT = "sent"


@dataclass(frozen=True, slots=True)
class BroadcastRecord:
    """One message for a topic to the contacts carrying a tag."""

    id: str
    tenant_id: str
    topic: str
    text: str
    tag: str
    recipients: int
    status: BroadcastStatus
    created_by: str
    approved_by: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CounterLimit:
    """Reserve one unit of ``key`` only while its count is below ``limit``."""

    key: str
    limit: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PlanContact:
    """What bulk planning knows about one recipient, read in bulk."""

    contact_id: str
    channel_id: str
    channel_kind: str
    external_id: str
    is_test: bool
    followed: bool
    last_inbound_at: datetime | None


class TermAction(StrEnum):
    """What an operator's or tenant's moderation term does: allow, deny (block), flag."""

    ALLOW = "allow"
    DENY = "deny"
    FLAG = "flag"


@dataclass(frozen=True, slots=True)
class ModerationTerm:
    """A moderation lexicon edit; ``tenant_id`` None: the platform's own lexicon.

    ``category`` is a :class:`kindbot.core.screening.ContentCategory` value (None
    for an allow term, which applies to every category).
    """

    id: str
    tenant_id: str | None
    term: str
    category: str | None
    action: TermAction
    created_at: datetime
    created_by: str
