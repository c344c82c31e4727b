"""What a caller hands admission besides the reply: proactive tickets, extra guard facts,
how many replies it takes itself, and what came back."""

from __future__ import annotations

from dataclasses import dataclass, field

from kindbot.core.events import (
    OutboundDecision,
    SentReply,
)
from kindbot.core.records.outbox import HandoverLease
from kindbot.guard.counting import ProactiveKeys
from kindbot.guard.facts import (
    BroadcastFacts,
    GroupFacts,
    ProactiveFacts,
)


@dataclass(frozen=True, slots=True)
class ProactiveTicket:
    """A proactive send's facts and the counters it must reserve when allowed."""

    facts: ProactiveFacts
    keys: ProactiveKeys


@dataclass(frozen=True, slots=True)
class GuardExtras:
    """Facts beyond the conversation's own, for proactive, group and broadcast sends."""

    proactive: ProactiveTicket | None = None
    broadcast: BroadcastFacts | None = None
    group: GroupFacts | None = None


NO_EXTRAS = GuardExtras()


@dataclass(frozen=True, slots=True)
class Taking:
    """Replies the caller hands over itself: the first ``limit`` admitted are stored
    ``handed_over`` under ``lease``; the others are due at once (for the outbox worker)."""

    lease: HandoverLease
    limit: int


@dataclass(slots=True)
class GuardedSends:
    """What :meth:`Admission.enqueue_guarded` did: sends admitted, decisions that stopped one,
    and the sends stored as handed over to the caller (:class:`Taking`)."""

    sent: list[SentReply] = field(default_factory=list)
    stopped: list[OutboundDecision] = field(default_factory=list)
    taken: list[SentReply] = field(default_factory=list)
