"""Contacts, conversations and messages: what a conversation holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kindbot.core.records.flows import FlowState


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


class ConversationState(StrEnum):
    """Who is handling a conversation."""

    BOT = "bot"
    WAITING = "waiting"
    HUMAN = "human"
    RESOLVED = "resolved"


class ContactSource(StrEnum):
    """How kindbot first learned of a contact."""

    MESSAGE = "message"
    """Its own message (or a test-contact mark): every contact before issue 16."""
    EVENT = "event"
    """Named by an imported business event; no consent is implied."""


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
    source: ContactSource = ContactSource.MESSAGE
    """How kindbot first learned of the contact."""


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


@dataclass(frozen=True, slots=True)
class InboundOpening:
    """What storing an inbound message reads with its conversation, in the one
    statement that finds (and touches) the open conversation.

    ``recent_bot_texts``: the bot's last messages in the conversation, newest
    first (the guard's repetition rule); ``flow_state``: the conversation's
    place in a flow (None: none); ``tenant_revision``: ``tenants.revision``,
    what tells a process whether its cache of the tenant is current.
    """

    contact: ContactRecord
    conversation: ConversationRecord
    tenant_revision: int
    recent_bot_texts: tuple[str, ...]
    flow_state: FlowState | None


@dataclass(frozen=True, slots=True)
class FinishedInbound:
    """An inbound message just marked processed, with what its outcome reads, from
    the same statement.

    ``conversation_state``: the conversation's state as the outcome starts;
    ``rating_conversation_id``: the contact's conversation whose satisfaction
    question is open (None: none); ``activity``: the conversation's counts for
    the guard (replies to this message; bot messages since ``since``).
    """

    message: MessageRecord
    conversation_state: ConversationState
    rating_conversation_id: str | None
    activity: ConversationActivity
