"""Broadcasts: one message for a topic to the contacts carrying a tag, decided per recipient.

A broadcast is planned first (:class:`kindbot.campaigns.planner.Planner`):
recipients the guard would certainly refuse (no consent, caps reached,
unfollowed …) are counted in the plan and never attempted. Every other
recipient goes through :class:`kindbot.campaigns.proactive.ProactiveSender`,
which decides again with live facts. A broadcast to more recipients than the
tenant's ``human_confirm_over`` waits until a second person approves it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from kindbot.campaigns.planner import Audience, Planner
from kindbot.campaigns.proactive import ProactiveRequest, ProactiveSender
from kindbot.core.errors import BadRequestError, NotFoundError
from kindbot.core.events import Decision, Verdict
from kindbot.core.ports.seams import Clock, Store
from kindbot.core.records.campaigns import BroadcastRecord, BroadcastStatus
from kindbot.guard.facts import BroadcastFacts
from kindbot.guard.planning import Plan, PlannedSend, admissible
from kindbot.pipeline.admit.admission import tenant_policy_of
from kindbot.pipeline.receive.turn import AuditBatch

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while a broadcast is being sent."""


@dataclass(frozen=True, slots=True)
class BroadcastTally:
    """What sending a broadcast did, per decision."""

    attempted: int = 0
    allowed: int = 0
    deferred: int = 0
    denied: int = 0


@dataclass(frozen=True, slots=True)
class BroadcastStarted:
    """A created broadcast, the plan it was created with, and the recipients' external ids."""

    broadcast: BroadcastRecord
    plan: Plan
    names: dict[str, str]


class Broadcasts:
    """Creates, approves and sends broadcasts."""

    def __init__(
        self, *, store: Store, clock: Clock, planner: Planner, sender: ProactiveSender
    ) -> None:
        self._store = store
        self._clock = clock
        self._planner = planner
        self._sender = sender

    async def create(
        self, tenant_slug: str, *, tag: str, topic: str, text: str, created_by: str
    ) -> BroadcastStarted:
        """Plan a broadcast and record it: ready for :meth:`deliver`, or awaiting approval.

        Raises :class:`BadRequestError` for empty text, topic or tag and
        :class:`NotFoundError` for an unknown tenant.
        """
        _require(tag=tag, topic=topic, text=text, created_by=created_by)
        planned = await self._planner.plan(tenant_slug, Audience(tag=tag), topic=topic, text=text)
        tenant = planned.tenant
        needs_approval = len(planned.recipients) > tenant_policy_of(tenant).human_confirm_over
        status = BroadcastStatus.AWAITING_APPROVAL if needs_approval else BroadcastStatus.SENT
        now = self._clock.now()
        async with self._store.transaction() as tx:
            record = await tx.broadcasts.create(
                tenant_id=tenant.id,
                topic=topic,
                text=text,
                tag=tag,
                recipients=len(planned.recipients),
                status=status,
                created_by=created_by,
                now=now,
            )
            audit = AuditBatch(tenant.id)
            audit.add(
                at=now,
                kind="broadcast",
                subject=f"broadcast:{record.id}",
                verdict=_created_verdict(record, planned.plan, created_by),
            )
            await audit.flush(tx)
        names = {r.contact_id: r.external_id for r in planned.recipients}
        return BroadcastStarted(record, planned.plan, names)

    async def approve(self, broadcast_id: str, approved_by: str) -> BroadcastRecord:
        """A second person approves an awaiting broadcast (never its creator)."""
        _require(approved_by=approved_by)
        now = self._clock.now()
        async with self._store.transaction() as tx:
            record = await tx.broadcasts.get(broadcast_id)
            if record is None:
                raise NotFoundError(f"no broadcast {broadcast_id!r}", code="unknown_broadcast")
            if record.created_by == approved_by:
                raise BadRequestError(
                    "a broadcast must be approved by someone other than its creator",
                    code="same_approver",
                )
            if not await tx.broadcasts.approve(broadcast_id, approved_by):
                raise BadRequestError(
                    f"broadcast {broadcast_id} is not awaiting approval", code="not_awaiting"
                )
            audit = AuditBatch(record.tenant_id)
            audit.add(
                at=now,
                kind="broadcast",
                subject=f"broadcast:{record.id}",
                verdict=Verdict(
                    Decision.ALLOW,
                    "human_confirm",
                    f"广播已由 {approved_by} 批准。",
                    f"Broadcast approved by {approved_by}.",
                ),
            )
            await audit.flush(tx)
        return replace(record, status=BroadcastStatus.SENT, approved_by=approved_by)

    async def deliver(
        self, broadcast_id: str, *, progress: Progress | None = None
    ) -> BroadcastTally:
        """Send an approved (or small) broadcast: each admissible recipient through the guard."""
        async with self._store.transaction(readonly=True) as tx:
            record = await tx.broadcasts.get(broadcast_id)
            tenant = await tx.tenants.get(record.tenant_id) if record is not None else None
        if record is None or tenant is None:
            raise NotFoundError(f"no broadcast {broadcast_id!r}", code="unknown_broadcast")
        if record.status is not BroadcastStatus.SENT:
            raise BadRequestError(
                f"broadcast {broadcast_id} awaits a second person's approval",
                code="awaiting_approval",
            )
        facts = BroadcastFacts(record.recipients, second_approval=record.approved_by is not None)
        planned = await self._planner.plan(
            tenant.slug, Audience(tag=record.tag), topic=record.topic, text=record.text
        )
        send = PlannedSend(
            tenant_id=tenant.id,
            tenant_status=tenant.status,
            policy=tenant_policy_of(tenant),
            topic=record.topic,
            text=record.text,
            prefer_chinese=tenant.language.startswith("zh"),
            broadcast=facts,
        )
        targets = admissible(send, planned.recipients, self._clock.now())
        return await self._send_each(record, facts, targets, progress)

    async def _send_each(
        self,
        record: BroadcastRecord,
        facts: BroadcastFacts,
        targets: list[str],
        progress: Progress | None,
    ) -> BroadcastTally:
        tally = BroadcastTally()
        for done, contact_id in enumerate(targets, start=1):
            outcome = await self._sender.send(
                ProactiveRequest(
                    tenant_id=record.tenant_id,
                    contact_id=contact_id,
                    topic=record.topic,
                    text=record.text,
                    broadcast_id=record.id,
                    broadcast=facts,
                )
            )
            tally = _count(tally, outcome.decision)
            if progress is not None:
                progress(done, len(targets))
        return tally


def _count(tally: BroadcastTally, decision: Decision) -> BroadcastTally:
    attempted = tally.attempted + 1
    if decision is Decision.ALLOW:
        return replace(tally, attempted=attempted, allowed=tally.allowed + 1)
    if decision is Decision.DEFER:
        return replace(tally, attempted=attempted, deferred=tally.deferred + 1)
    return replace(tally, attempted=attempted, denied=tally.denied + 1)


def _created_verdict(record: BroadcastRecord, plan: Plan, created_by: str) -> Verdict:
    waiting = record.status is BroadcastStatus.AWAITING_APPROVAL
    zh = (
        f"{created_by} 创建广播（标签 {record.tag}，{record.recipients} 人；"
        f"预计可发 {plan.allowed}，顺延 {plan.deferred}，拒绝 {plan.denied}）"
        + ("，等待第二人批准。" if waiting else "。")
    )
    en = (
        f"{created_by} created a broadcast to tag {record.tag!r} ({record.recipients} contacts; "
        f"plan: {plan.allowed} allowed, {plan.deferred} deferred, {plan.denied} refused)"
        + (", awaiting a second person's approval." if waiting else ".")
    )
    decision = Decision.DEFER if waiting else Decision.ALLOW
    return Verdict(decision, "human_confirm", zh, en)


def _require(**fields: str) -> None:
    for name, value in fields.items():
        if not value.strip():
            raise BadRequestError(f"{name} must not be empty", code="invalid_broadcast")
