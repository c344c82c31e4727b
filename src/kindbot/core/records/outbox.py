"""The outbox and deferred sends: admitted messages on their way to a channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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
    tenant_revision: int | None = None
    """The tenant's revision when a worker claimed it (``claim_due``): tells the worker
    whether the channel it remembers is current (None: not read)."""


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


@dataclass(frozen=True, slots=True)
class HandoverLease:
    """A caller's claim on replies it hands over itself: its token, and until when it holds them."""

    token: str
    until: datetime


@dataclass(frozen=True, slots=True)
class HandoverClaim:
    """One reply a caller's hand-over holds: its outbox row, under the claim's token."""

    outbox_id: str
    token: str
