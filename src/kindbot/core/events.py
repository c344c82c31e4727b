"""Frozen events and decisions that flow through the pipeline.

Contract module: imports nothing of ours but the records (:mod:`kindbot.core.records`).
Channels turn wire formats into :class:`InboundEvent`; dialogue proposes
:class:`OutboundReply` values; the guard answers every proposed send with a
:class:`Verdict`. None of these carries a ``dict`` bag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class InboundKind(StrEnum):
    """What an inbound event is.

    ``OTHER`` is a known non-text message (location, link, video …);
    ``UNKNOWN`` is a wire type the channel does not know: recorded, never answered.
    """

    TEXT = "text"
    IMAGE = "image"
    EVENT = "event"
    OTHER = "other"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One message or event from an end user, as parsed from its channel.

    ``idempotency_key`` is unique per channel for one logical message (the
    channel's own message id, or a key derived from the event); a retried
    delivery of the same message carries the same key. ``text`` is the user's
    text for ``TEXT`` events and a short description otherwise. For ``EVENT``
    kinds, ``event`` names the platform event (``subscribe``, ``CLICK`` …) and
    ``event_key`` carries its key, if any.
    """

    channel_public_id: str
    sender: str
    kind: InboundKind
    text: str
    idempotency_key: str
    received_at: datetime
    sender_name: str | None = None
    event: str | None = None
    event_key: str | None = None


@dataclass(frozen=True, slots=True)
class CallbackNonce:
    """The nonce and timestamp a signed platform callback carried (replay detection)."""

    nonce: str
    timestamp: str


class ReplyOrigin(StrEnum):
    """Where a proposed reply came from (the guard treats them differently)."""

    KNOWLEDGE = "knowledge"
    FALLBACK = "fallback"
    SYSTEM = "system"
    HANDLER = "handler"
    GENERATED = "generated"
    AGENT = "agent"
    FLOW = "flow"


@dataclass(frozen=True, slots=True)
class OutboundReply:
    """A reply proposed by dialogue (or the guard's own confirmations).

    ``entry_id`` names the knowledge entry the reply was taken from, if any.
    ``source_entry_ids`` names the entries a generated (``GENERATED``) reply
    was grounded on; empty for every other origin.
    """

    text: str
    origin: ReplyOrigin
    entry_id: str | None = None
    score: float | None = None
    source_entry_ids: tuple[str, ...] = ()


class Decision(StrEnum):
    """The guard's answer to one proposed send."""

    ALLOW = "allow"
    DENY = "deny"
    DEFER = "defer"


class Severity(StrEnum):
    """How much a denial counts towards the tenant's violation score."""

    NONE = "none"
    LOW = "low"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Verdict:
    """One rule's (or the guard's overall) decision about one action.

    ``rule`` is the catalog id (DESIGN.md §5) that decided; ``reason_zh`` and
    ``reason_en`` say why for people; ``remedy_zh``/``remedy_en`` say what would
    make it pass; ``retry_at`` is set for deferrals.
    """

    decision: Decision
    rule: str
    reason_zh: str
    reason_en: str
    remedy_zh: str = ""
    remedy_en: str = ""
    retry_at: datetime | None = None
    severity: Severity = Severity.NONE

    @property
    def allowed(self) -> bool:
        """True when the action may go ahead now."""
        return self.decision is Decision.ALLOW


class SendKind(StrEnum):
    """Reactive replies answer an inbound message; proactive sends do not."""

    REPLY = "reply"
    PROACTIVE = "proactive"


@dataclass(frozen=True, slots=True)
class OutboundAction:
    """What the guard is asked about: sending ``reply`` to one contact."""

    tenant_id: str
    channel_id: str
    channel_kind: str
    contact_id: str
    conversation_id: str
    kind: SendKind
    reply: OutboundReply


@dataclass(frozen=True, slots=True)
class OutboundDecision:
    """The guard's outcome for one action.

    ``reply`` is what may be sent: the proposed reply, possibly amended (for
    example with the AI disclosure). ``checks`` holds every rule's verdict in
    catalog order; ``verdict`` is the deciding one.
    """

    verdict: Verdict
    reply: OutboundReply
    checks: tuple[Verdict, ...] = field(default=())


class InboundAction(StrEnum):
    """What the pipeline does with an inbound message after the guard saw it."""

    CONTINUE = "continue"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    LOOP = "loop"
    IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class InboundDecision:
    """The guard's outcome for one inbound event.

    For ``OPT_OUT``/``OPT_IN`` the guard supplies the confirmation in
    ``replies``; for ``CONTINUE`` dialogue produces the replies.
    """

    action: InboundAction
    verdict: Verdict
    replies: tuple[OutboundReply, ...] = ()


@dataclass(frozen=True, slots=True)
class SentReply:
    """A reply that passed the guard and sits in the outbox."""

    outbox_id: str
    message_id: str
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FeedResult:
    """What :func:`kindbot.pipeline.receive.feed` did with one inbound event.

    ``duplicate`` is true when the event had been processed before; the
    replies are then the ones produced the first time. ``taken``: the first
    replies, claimed for the caller's own hand-over (``handed_over`` under the
    claim ``handover_token``) in the outcome's own transaction
    (``Pipeline.feed(take=…)``); the caller must confirm them once its response
    was sent or give them back (``Pipeline.confirm`` / ``Pipeline.release``).
    """

    inbound_message_id: str
    conversation_id: str
    contact_id: str
    duplicate: bool
    replies: tuple[SentReply, ...]
    received_at: datetime
    taken: tuple[SentReply, ...] = ()
    handover_token: str | None = None

    @property
    def handover(self) -> Handover | None:
        """What ``feed(take=…)`` claimed for the caller, if anything."""
        if not self.taken or self.handover_token is None:
            return None
        return Handover(self.handover_token, self.taken)


@dataclass(frozen=True, slots=True)
class Handover:
    """Replies a caller hands over itself (a passive reply, a response body).

    ``token`` is the claim that holds them (outbox status ``handed_over``):
    only it confirms them (the response was sent) or gives them back (it was
    not); a later claim — a retry of the same request — supersedes it.
    ``replies`` may also list replies an earlier response already carried
    (:meth:`kindbot.pipeline.handover.passive.HandoverMixin.claim_for_passive` with
    ``echo``); confirming or giving back those changes nothing.
    """

    token: str
    replies: tuple[SentReply, ...]


@dataclass(frozen=True, slots=True)
class DeliveryRequest:
    """Everything a channel adapter needs to deliver one outbox item."""

    outbox_id: str
    tenant_id: str
    channel_public_id: str
    channel_config: str
    recipient: str
    text: str
    message_id: str
    created_at: datetime


class DeliveryStatus(StrEnum):
    """How a delivery attempt ended."""

    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """Result of one delivery attempt; ``detail`` explains failures."""

    status: DeliveryStatus
    detail: str = ""
