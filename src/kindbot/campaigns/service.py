"""Campaigns: a message (in variants) for a topic to an audience, with a holdout.

Life of a campaign (DESIGN.md §9, issue 16 §4): it is created with its
audience resolved, each contact assigned deterministically to the
**treatment** or the **holdout** (control) arm and a content variant, and
every recipient recorded — all before anything is sent. Then it waits for a
second person's approval when its treatment arm is bigger than the tenant's
``human_confirm_over`` (never its creator), is ``scheduled`` until its start,
and is sent by :class:`kindbot.campaigns.delivery.CampaignDelivery` in
``kindbot worker`` through :class:`kindbot.campaigns.proactive.ProactiveSender`
(the guard decides every send again). The holdout is never messaged; its
contacts are what the report compares the treatment with
(:mod:`kindbot.analytics.campaigns`, read by :mod:`kindbot.ops.campaigns`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kindbot.campaigns.assignment import DEFAULT_HOLDOUT_SHARE, MAX_HOLDOUT_SHARE, assign
from kindbot.campaigns.audiences import AudienceSpec, SegmentResolver, resolve
from kindbot.campaigns.planner import Audience, Planner
from kindbot.core.errors import BadRequestError, NotFoundError
from kindbot.core.events import Decision, Verdict
from kindbot.core.ports.seams import Clock, Store, Transaction
from kindbot.core.records.campaigns import (
    Arm,
    CampaignRecord,
    CampaignStatus,
    NewRecipient,
    RecipientCount,
    RecipientStatus,
    Variant,
)
from kindbot.core.records.tenancy import TenantRecord
from kindbot.guard.planning import Plan
from kindbot.pipeline.admit.admission import tenant_policy_of
from kindbot.pipeline.receive.turn import AuditBatch

DEFAULT_ATTRIBUTION_DAYS = 7
MAX_ATTRIBUTION_DAYS = 90
MAX_VARIANTS = 26
MAX_WEIGHT = 1_000
MAX_PER_MINUTE = 100_000
LIST_LIMIT = 200


@dataclass(frozen=True, slots=True)
class CampaignDraft:
    """What a person asks for when creating a campaign (checked by :func:`check_draft`)."""

    name: str
    topic: str
    audience: AudienceSpec
    variants: tuple[Variant, ...]
    holdout_share: float = DEFAULT_HOLDOUT_SHARE
    attribution_days: int = DEFAULT_ATTRIBUTION_DAYS
    starts_at: datetime | None = None
    per_minute: int | None = None


@dataclass(frozen=True, slots=True)
class VariantPlan:
    """The guard's plan for one variant's recipients (as if sent now)."""

    variant: str
    plan: Plan


@dataclass(frozen=True, slots=True)
class CampaignCreated:
    """A recorded campaign, the plan of each variant, and the recipients' external ids."""

    campaign: CampaignRecord
    plans: tuple[VariantPlan, ...]
    names: dict[str, str]


def _bad(message: str) -> BadRequestError:
    return BadRequestError(message, code="invalid_campaign")


def check_draft(draft: CampaignDraft) -> CampaignDraft:
    """``draft`` itself, or :class:`BadRequestError` (``invalid_campaign`` or
    ``invalid_audience``) naming the first field that is wrong."""
    if not draft.name.strip() or len(draft.name) > 200:
        raise _bad("name: 1 to 200 characters")
    if not draft.topic.strip() or len(draft.topic) > 64:
        raise _bad("topic: 1 to 64 characters")
    draft.audience.check()
    if not 1 <= len(draft.variants) <= MAX_VARIANTS:
        raise _bad(f"variants: 1 to {MAX_VARIANTS}")
    names = [v.name for v in draft.variants]
    if len(set(names)) != len(names):
        raise _bad("variants: names must be different")
    for variant in draft.variants:
        if not variant.name.strip() or len(variant.name) > 64:
            raise _bad("variants: a name of 1 to 64 characters")
        if not variant.text.strip():
            raise _bad(f"variants: {variant.name}: the text must not be empty")
        if not 1 <= variant.weight <= MAX_WEIGHT:
            raise _bad(f"variants: {variant.name}: a weight of 1 to {MAX_WEIGHT}")
    if not 0 <= draft.holdout_share <= MAX_HOLDOUT_SHARE:
        raise _bad(f"holdout_share: between 0 and {MAX_HOLDOUT_SHARE}")
    if not 1 <= draft.attribution_days <= MAX_ATTRIBUTION_DAYS:
        raise _bad(f"attribution_days: 1 to {MAX_ATTRIBUTION_DAYS}")
    if draft.per_minute is not None and not 1 <= draft.per_minute <= MAX_PER_MINUTE:
        raise _bad(f"per_minute: 1 to {MAX_PER_MINUTE}")
    if draft.starts_at is not None and draft.starts_at.utcoffset() is None:
        raise _bad("starts_at: a time with its UTC offset")
    return draft


class Campaigns:
    """Creates, submits, approves, cancels and lists campaigns (sending is
    :class:`kindbot.campaigns.delivery.CampaignDelivery`'s, the report
    :func:`kindbot.ops.campaigns.campaign_report`'s)."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        planner: Planner,
        segments: SegmentResolver | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._planner = planner
        self.segments = segments
        """Resolves a segment audience (set by the composition root once segments exist)."""

    async def create(
        self, tenant_slug: str, draft: CampaignDraft, *, created_by: str, submit: bool = True
    ) -> CampaignCreated:
        """Resolve the audience, assign arms and variants, plan, and record it all.

        ``submit=False`` keeps it a ``draft`` (see :meth:`submit`). Raises
        :class:`BadRequestError` for a bad draft or an audience without any
        contact, :class:`NotFoundError` for an unknown tenant or segment.
        """
        check_draft(draft)
        if not created_by.strip():
            raise _bad("created_by must not be empty")
        async with self._store.transaction(readonly=True) as tx:
            tenant = await _tenant(tx, tenant_slug)
        wanted = await resolve(self._store, tenant.id, draft.audience, self.segments)
        async with self._store.transaction(readonly=True) as tx:
            contacts = await tx.planning.plan_contacts(tenant.id, wanted)
        existing = [contact.contact_id for contact in contacts]
        if not existing:
            raise BadRequestError("the audience has no contacts", code="empty_audience")
        campaign_id = uuid.uuid4().hex
        recipients = assign(campaign_id, existing, draft.holdout_share, draft.variants)
        treatment = sum(1 for r in recipients if r.arm is Arm.TREATMENT)
        status = _submitted_status(tenant, treatment) if submit else CampaignStatus.DRAFT
        plans = await self._plans(tenant_slug, draft, recipients_by_variant(recipients))
        now = self._clock.now()
        async with self._store.transaction() as tx:
            record = await tx.campaigns.create(
                campaign_id=campaign_id,
                tenant_id=tenant.id,
                name=draft.name.strip(),
                topic=draft.topic.strip(),
                audience_kind=draft.audience.kind,
                audience_name=draft.audience.name,
                variants=draft.variants,
                holdout_share=draft.holdout_share,
                attribution_days=draft.attribution_days,
                starts_at=draft.starts_at,
                per_minute=draft.per_minute,
                status=status,
                created_by=created_by,
                recipients=recipients,
                now=now,
            )
            await _flush(tx, record, now, _created_verdict(record, created_by))
        names = {contact.contact_id: contact.external_id for contact in contacts}
        return CampaignCreated(record, plans, names)

    async def _plans(
        self, tenant_slug: str, draft: CampaignDraft, by_variant: dict[str, tuple[str, ...]]
    ) -> tuple[VariantPlan, ...]:
        plans = []
        for variant in draft.variants:
            ids = by_variant.get(variant.name, ())
            planned = await self._planner.plan(
                tenant_slug,
                Audience(contact_ids=ids),
                topic=draft.topic,
                text=variant.text,
            )
            plans.append(VariantPlan(variant.name, planned.plan))
        return tuple(plans)

    async def submit(self, tenant_slug: str, campaign_id: str, actor: str) -> CampaignRecord:
        """A draft goes to approval (above ``human_confirm_over``) or is scheduled."""
        now = self._clock.now()
        async with self._store.transaction() as tx:
            tenant, record = await find_campaign(tx, tenant_slug, campaign_id)
            to = _submitted_status(tenant, record.treatment)
            if not await tx.campaigns.transition(record.id, leaving=(CampaignStatus.DRAFT,), to=to):
                raise BadRequestError(f"campaign {campaign_id} is not a draft", code="not_draft")
            verdict = Verdict(
                Decision.ALLOW,
                "human_confirm",
                f"活动已由 {actor} 提交。",
                f"Campaign submitted by {actor}.",
            )
            await _flush(tx, record, now, verdict)
            updated = await tx.campaigns.get(record.id)
        assert updated is not None
        return updated

    async def approve(self, tenant_slug: str, campaign_id: str, approved_by: str) -> CampaignRecord:
        """A second person (never the creator) approves a campaign awaiting approval."""
        if not approved_by.strip():
            raise _bad("approved_by must not be empty")
        now = self._clock.now()
        async with self._store.transaction() as tx:
            _, record = await find_campaign(tx, tenant_slug, campaign_id)
            if record.created_by == approved_by:
                raise BadRequestError(
                    "a campaign must be approved by someone other than its creator",
                    code="same_approver",
                )
            if not await tx.campaigns.transition(
                record.id,
                leaving=(CampaignStatus.AWAITING_APPROVAL,),
                to=CampaignStatus.SCHEDULED,
                approved_by=approved_by,
            ):
                raise BadRequestError(
                    f"campaign {campaign_id} is not awaiting approval", code="not_awaiting"
                )
            verdict = Verdict(
                Decision.ALLOW,
                "human_confirm",
                f"活动已由 {approved_by} 批准。",
                f"Campaign approved by {approved_by}.",
            )
            await _flush(tx, record, now, verdict)
            updated = await tx.campaigns.get(record.id)
        assert updated is not None
        return updated

    async def cancel(self, tenant_slug: str, campaign_id: str, actor: str) -> CampaignRecord:
        """Stop a campaign that has not finished: what is not sent yet is never sent
        (its waiting deferred sends are refused)."""
        if not actor.strip():
            raise _bad("the actor must not be empty")
        now = self._clock.now()
        async with self._store.transaction() as tx:
            _, record = await find_campaign(tx, tenant_slug, campaign_id)
            open_states = (
                CampaignStatus.DRAFT,
                CampaignStatus.AWAITING_APPROVAL,
                CampaignStatus.SCHEDULED,
                CampaignStatus.SENDING,
            )
            if not await tx.campaigns.transition(
                record.id, leaving=open_states, to=CampaignStatus.CANCELLED, cancelled_by=actor
            ):
                raise BadRequestError(
                    f"campaign {campaign_id} is {record.status.value}; it cannot be cancelled",
                    code="not_cancellable",
                )
            await tx.campaigns.skip_unsent(record.id, f"cancelled by {actor}")
            verdict = Verdict(
                Decision.DENY,
                "human_confirm",
                f"活动已由 {actor} 取消。",
                f"Campaign cancelled by {actor}.",
            )
            await _flush(tx, record, now, verdict)
            updated = await tx.campaigns.get(record.id)
        assert updated is not None
        return updated

    async def get(
        self, tenant_slug: str, campaign_id: str
    ) -> tuple[CampaignRecord, list[RecipientCount]]:
        """A campaign of the tenant and its recipients per arm and status."""
        async with self._store.transaction(readonly=True) as tx:
            _, record = await find_campaign(tx, tenant_slug, campaign_id)
            return record, await tx.campaigns.counts(record.id)

    async def plan_of(self, tenant_slug: str, campaign_id: str) -> tuple[VariantPlan, ...]:
        """What the guard would decide now for each variant's recipients still waiting to be
        sent (``planned``): who may receive it and, per rule, why not. Writes nothing."""
        async with self._store.transaction(readonly=True) as tx:
            _, record = await find_campaign(tx, tenant_slug, campaign_id)
            recipients = await tx.campaigns.recipients(record.id)
        waiting: dict[str, list[str]] = {}
        for r in recipients:
            if r.status is RecipientStatus.PLANNED and r.variant is not None:
                waiting.setdefault(r.variant, []).append(r.contact_id)
        plans = []
        for variant in record.variants:
            planned = await self._planner.plan(
                tenant_slug,
                Audience(contact_ids=tuple(waiting.get(variant.name, ()))),
                topic=record.topic,
                text=variant.text,
            )
            plans.append(VariantPlan(variant.name, planned.plan))
        return tuple(plans)

    async def list(self, tenant_slug: str) -> list[CampaignRecord]:
        """The tenant's campaigns, newest first (at most :data:`LIST_LIMIT`)."""
        async with self._store.transaction(readonly=True) as tx:
            tenant = await _tenant(tx, tenant_slug)
            return await tx.campaigns.for_tenant(tenant.id, LIST_LIMIT)


def recipients_by_variant(recipients: Sequence[NewRecipient]) -> dict[str, tuple[str, ...]]:
    """Treatment contact ids per variant name, in order."""
    found: dict[str, list[str]] = {}
    for recipient in recipients:
        if recipient.variant is not None:
            found.setdefault(recipient.variant, []).append(recipient.contact_id)
    return {name: tuple(ids) for name, ids in found.items()}


def _submitted_status(tenant: TenantRecord, treatment: int) -> CampaignStatus:
    """Above the tenant's ``human_confirm_over`` a campaign waits for a second person."""
    if treatment > tenant_policy_of(tenant).human_confirm_over:
        return CampaignStatus.AWAITING_APPROVAL
    return CampaignStatus.SCHEDULED


async def _tenant(tx: Transaction, tenant_slug: str) -> TenantRecord:
    tenant = await tx.tenants.get_by_slug(tenant_slug)
    if tenant is None:
        raise NotFoundError(f"no tenant {tenant_slug!r}", code="unknown_tenant")
    return tenant


async def find_campaign(
    tx: Transaction, tenant_slug: str, campaign_id: str
) -> tuple[TenantRecord, CampaignRecord]:
    tenant = await _tenant(tx, tenant_slug)
    record = await tx.campaigns.get(campaign_id)
    if record is None or record.tenant_id != tenant.id:
        raise NotFoundError(f"no campaign {campaign_id!r}", code="unknown_campaign")
    return tenant, record


async def _flush(tx: Transaction, record: CampaignRecord, now: datetime, verdict: Verdict) -> None:
    audit = AuditBatch(record.tenant_id)
    audit.add(at=now, kind="campaign", subject=f"campaign:{record.id}", verdict=verdict)
    await audit.flush(tx)


def _created_verdict(record: CampaignRecord, created_by: str) -> Verdict:
    waiting = record.status is CampaignStatus.AWAITING_APPROVAL
    holdout = record.recipients - record.treatment
    zh = (
        f"{created_by} 创建活动「{record.name}」（{record.recipients} 人："
        f"发送组 {record.treatment}，对照组 {holdout}）"
        + ("，等待第二人批准。" if waiting else "。")
    )
    en = (
        f"{created_by} created campaign {record.name!r} ({record.recipients} contacts: "
        f"{record.treatment} treatment, {holdout} holdout)"
        + (", awaiting a second person's approval." if waiting else ".")
    )
    return Verdict(Decision.DEFER if waiting else Decision.ALLOW, "human_confirm", zh, en)
