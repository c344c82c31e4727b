"""Bodies of the guard's ``/api/v1`` routes: proactive sends, plans, explanations, broadcasts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from kindbot.campaigns.broadcasts import BroadcastStarted
from kindbot.campaigns.proactive import ProactiveOutcome
from kindbot.core.events import OutboundDecision, SendKind, Verdict
from kindbot.core.records.campaigns import BroadcastRecord
from kindbot.guard.planning import Plan

Topic = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
Tag = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SendIn(_In):
    """A proactive message for ``topic`` (the contact must have opted in to it)."""

    topic: Topic
    text: Text


class VerdictOut(BaseModel):
    """One rule's (or the guard's) decision, why, and what would change it."""

    decision: str
    rule: str
    reason_zh: str
    reason_en: str
    remedy_zh: str
    remedy_en: str
    retry_at: datetime | None

    @classmethod
    def of(cls, verdict: Verdict) -> VerdictOut:
        return cls(
            decision=verdict.decision.value,
            rule=verdict.rule,
            reason_zh=verdict.reason_zh,
            reason_en=verdict.reason_en,
            remedy_zh=verdict.remedy_zh,
            remedy_en=verdict.remedy_en,
            retry_at=verdict.retry_at,
        )


class SendOut(BaseModel):
    """What the guard decided: ``message_id`` when sent, ``deferred_id`` when it waits."""

    verdict: VerdictOut
    message_id: str | None
    deferred_id: str | None

    @classmethod
    def of(cls, outcome: ProactiveOutcome) -> SendOut:
        return cls(
            verdict=VerdictOut.of(outcome.verdict),
            message_id=outcome.message_id,
            deferred_id=outcome.deferred_id,
        )


class ExplainIn(_In):
    """A message to judge for one contact (``channel`` is the channel's id in the tenant)."""

    channel: Annotated[str, Field(min_length=1, max_length=64)]
    external_id: Annotated[str, Field(min_length=1, max_length=200)]
    kind: SendKind = SendKind.REPLY
    topic: Annotated[str, Field(max_length=64)] = ""
    text: Text = "……"


class ExplainOut(BaseModel):
    """The overall verdict and every rule's view."""

    verdict: VerdictOut
    checks: list[VerdictOut]

    @classmethod
    def of(cls, decision: OutboundDecision) -> ExplainOut:
        return cls(
            verdict=VerdictOut.of(decision.verdict),
            checks=[VerdictOut.of(check) for check in decision.checks],
        )


class PlanIn(_In):
    """A proactive message for ``topic`` to the contacts tagged ``tag``."""

    tag: Tag
    topic: Topic
    text: Text


class PlanLineOut(BaseModel):
    """Recipients with one deciding rule: how many, why, a few of them."""

    decision: str
    rule: str
    count: int
    reason_zh: str
    reason_en: str
    samples: list[str]


class PlanOut(BaseModel):
    """How many recipients the guard would let the message reach now, later, never."""

    total: int
    allowed: int
    deferred: int
    denied: int
    lines: list[PlanLineOut]

    @classmethod
    def of(cls, plan: Plan, names: dict[str, str]) -> PlanOut:
        """``names`` maps contact ids to the external ids shown as samples."""
        return cls(
            total=plan.total,
            allowed=plan.allowed,
            deferred=plan.deferred,
            denied=plan.denied,
            lines=[
                PlanLineOut(
                    decision=line.decision.value,
                    rule=line.rule,
                    count=line.count,
                    reason_zh=line.reason_zh,
                    reason_en=line.reason_en,
                    samples=[names.get(s, s) for s in line.samples],
                )
                for line in plan.lines
            ],
        )


class StandingOut(BaseModel):
    """The tenant's standing and its violation score over ``window_days``."""

    status: str
    standing: str
    score: int
    window_days: int


class BroadcastOut(BaseModel):
    """A broadcast: ``awaiting_approval`` until a second person approves, then ``sent``."""

    id: str
    tag: str
    topic: str
    text: str
    recipients: int
    status: str
    created_by: str
    approved_by: str | None
    created_at: datetime

    @classmethod
    def of(cls, record: BroadcastRecord) -> BroadcastOut:
        return cls(
            id=record.id,
            tag=record.tag,
            topic=record.topic,
            text=record.text,
            recipients=record.recipients,
            status=record.status.value,
            created_by=record.created_by,
            approved_by=record.approved_by,
            created_at=record.created_at,
        )


class BroadcastCreated(BaseModel):
    """The broadcast and the plan it was created with (sending runs in the background)."""

    broadcast: BroadcastOut
    plan: PlanOut

    @classmethod
    def of(cls, started: BroadcastStarted) -> BroadcastCreated:
        plan = PlanOut.of(started.plan, started.names)
        return cls(broadcast=BroadcastOut.of(started.broadcast), plan=plan)


class TagsOut(BaseModel):
    """A contact's tags."""

    tags: list[str]
