"""Bulk planning: what the guard would decide for each of many recipients, summed up.

Pure: the caller reads every recipient's facts in bulk and :func:`plan` runs
the same rules as a real send (:func:`kindbot.guard.rules.decide_outbound`)
for each, counting the tenant's quota as the plan admits recipients in order.
The answer is counts and sample contacts per deciding rule — "of 120,000
contacts 31,800 may receive this: 64,000 never opted in, …". A plan is a
forecast: each real send is decided again when it is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from kindbot.core.events import (
    Decision,
    OutboundAction,
    OutboundReply,
    ReplyOrigin,
    SendKind,
    Verdict,
)
from kindbot.core.records.tenancy import TenantStatus
from kindbot.core.screening import SCREENED_OK, ScreeningVerdict
from kindbot.guard.facts import BroadcastFacts, OutboundFacts, ProactiveFacts, WindowFacts
from kindbot.guard.policy import GuardPolicy
from kindbot.guard.rules import decide_outbound

SAMPLES_PER_LINE = 5


@dataclass(frozen=True, slots=True)
class PlannedSend:
    """The message being planned and what holds for every recipient alike."""

    tenant_id: str
    tenant_status: TenantStatus
    policy: GuardPolicy
    topic: str
    text: str
    prefer_chinese: bool
    tenant_sent_today: int = 0
    content: ScreeningVerdict = SCREENED_OK
    broadcast: BroadcastFacts | None = None


@dataclass(frozen=True, slots=True)
class RecipientFacts:
    """One recipient's facts, read in bulk (``window`` None: the channel has none)."""

    contact_id: str
    channel_id: str
    channel_kind: str
    is_test: bool
    followed: bool
    window: WindowFacts | None
    consent_wording: str | None
    sent_today: int = 0
    sent_this_month: int = 0
    external_id: str = ""


@dataclass(frozen=True, slots=True)
class PlanLine:
    """Recipients stopped (or let through) by one rule, with one decision and reason."""

    decision: Decision
    rule: str
    reason_en: str
    reason_zh: str
    count: int
    samples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """Counts per decision, and per deciding rule with sample contact ids.

    ``lines`` are ordered by decision (allow, defer, deny) then by count,
    largest first.
    """

    total: int
    allowed: int
    deferred: int
    denied: int
    lines: tuple[PlanLine, ...]


@dataclass(slots=True)
class _Tally:
    verdict: Verdict
    count: int = 0
    samples: list[str] = field(default_factory=list)


def plan(send: PlannedSend, recipients: Iterable[RecipientFacts], now: datetime) -> Plan:
    """Decide ``send`` for every recipient as the guard would, in order; sum the verdicts."""
    tallies: dict[tuple[Decision, str, str], _Tally] = {}
    total = 0
    for recipient, verdict in decisions(send, recipients, now):
        total += 1
        key = (verdict.decision, verdict.rule, verdict.reason_en)
        tally = tallies.setdefault(key, _Tally(verdict))
        tally.count += 1
        if len(tally.samples) < SAMPLES_PER_LINE:
            tally.samples.append(recipient.contact_id)
    return _summarise(total, tallies)


def admissible(send: PlannedSend, recipients: Iterable[RecipientFacts], now: datetime) -> list[str]:
    """Ids of the recipients the guard would not refuse (allowed now or deferred)."""
    return [
        recipient.contact_id
        for recipient, verdict in decisions(send, recipients, now)
        if verdict.decision is not Decision.DENY
    ]


def decisions(
    send: PlannedSend, recipients: Iterable[RecipientFacts], now: datetime
) -> Iterator[tuple[RecipientFacts, Verdict]]:
    """Each recipient with the guard's deciding verdict, counting the tenant quota in order."""
    reply = OutboundReply(send.text, ReplyOrigin.SYSTEM)
    decided: dict[tuple[object, ...], Verdict] = {}
    quota_left = send.policy.daily_recipients - send.tenant_sent_today
    admitted = 0
    for recipient in recipients:
        window = _canonical_window(recipient.window, now)
        key = (
            recipient.channel_kind,
            recipient.is_test,
            recipient.followed,
            window,
            recipient.consent_wording is None,
            recipient.sent_today,
            recipient.sent_this_month,
            admitted >= quota_left,
        )
        verdict = decided.get(key)
        if verdict is None:
            canonical = replace(recipient, window=window)
            verdict = decided[key] = _decide_one(send, reply, canonical, admitted, now)
        if verdict.decision is Decision.ALLOW:
            admitted += 1
        yield recipient, verdict


def _canonical_window(window: WindowFacts | None, now: datetime) -> WindowFacts | None:
    """The window reduced to what the rules distinguish.

    Recipients whose facts differ only in ways no rule's deciding verdict
    reads (the exact time of a last message still inside the window, the
    consent's wording) share one decision, which makes planning 100,000
    recipients a matter of a few distinct decisions.
    """
    if window is None:
        return None
    policy = window.policy
    length = policy.after_event if window.last_inbound_was_event else policy.after_message
    if window.last_inbound_at is None or now > window.last_inbound_at + length:
        return WindowFacts(policy, None, False, 0)
    return WindowFacts(policy, now, window.last_inbound_was_event, window.sent_since_inbound)


def _decide_one(
    send: PlannedSend,
    reply: OutboundReply,
    recipient: RecipientFacts,
    admitted: int,
    now: datetime,
) -> Verdict:
    action = OutboundAction(
        tenant_id=send.tenant_id,
        channel_id=recipient.channel_id,
        channel_kind=recipient.channel_kind,
        contact_id=recipient.contact_id,
        conversation_id="",
        kind=SendKind.PROACTIVE,
        reply=reply,
    )
    facts = OutboundFacts(
        tenant_status=send.tenant_status,
        contact_is_test=recipient.is_test,
        bot_messages_in_conversation=1,
        prefer_chinese=send.prefer_chinese,
        contact_followed=recipient.followed,
        window=recipient.window,
        policy=send.policy,
        proactive=ProactiveFacts(
            topic=send.topic,
            consent_wording=recipient.consent_wording,
            sent_today=recipient.sent_today,
            sent_this_month=recipient.sent_this_month,
            tenant_sent_today=send.tenant_sent_today + admitted,
        ),
        broadcast=send.broadcast,
        content=send.content,
    )
    return decide_outbound(action, facts, now).verdict


_ORDER = {Decision.ALLOW: 0, Decision.DEFER: 1, Decision.DENY: 2}


def _summarise(total: int, tallies: dict[tuple[Decision, str, str], _Tally]) -> Plan:
    lines = sorted(
        (
            PlanLine(
                decision=decision,
                rule=rule,
                reason_en=reason_en,
                reason_zh=tally.verdict.reason_zh,
                count=tally.count,
                samples=tuple(tally.samples),
            )
            for (decision, rule, reason_en), tally in tallies.items()
        ),
        key=lambda line: (_ORDER[line.decision], -line.count, line.rule),
    )

    def count(decision: Decision) -> int:
        return sum(line.count for line in lines if line.decision is decision)

    return Plan(
        total=total,
        allowed=count(Decision.ALLOW),
        deferred=count(Decision.DEFER),
        denied=count(Decision.DENY),
        lines=tuple(lines),
    )
