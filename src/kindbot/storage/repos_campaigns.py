"""SQL repository for campaigns and their recipients (issue 16 §4)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update

from kindbot.core.records.campaigns import (
    Arm,
    AudienceKind,
    CampaignRecipient,
    CampaignRecord,
    CampaignStatus,
    ContactMoment,
    ContactMoney,
    NewRecipient,
    RecipientCount,
    RecipientStatus,
    Variant,
)
from kindbot.core.records.outbox import DeferredStatus
from kindbot.storage.executor import Executor
from kindbot.storage.schema import (
    business_events,
    campaign_recipients,
    campaigns,
    consents,
    contacts,
    deferred_sends,
    messages,
)

INSERT_CHUNK = 1000
"""Recipient rows per INSERT statement."""

BASIS_POINTS = 10_000

_UNSENT = (RecipientStatus.PLANNED.value, RecipientStatus.DEFERRED.value)
COMPLAINT = "complaint"
_MONEY_TYPES = ("order", "refund")


def _variants_json(variants: Sequence[Variant]) -> str:
    return json.dumps(
        [{"name": v.name, "text": v.text, "weight": v.weight} for v in variants],
        ensure_ascii=False,
    )


def _campaign(row: Any) -> CampaignRecord:
    variants = tuple(
        Variant(str(v["name"]), str(v["text"]), int(v["weight"]))
        for v in json.loads(row.variants_json)
    )
    return CampaignRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        topic=row.topic,
        audience_kind=AudienceKind(row.audience_kind),
        audience_name=row.audience_name,
        variants=variants,
        holdout_share=row.holdout_bp / BASIS_POINTS,
        attribution_days=row.attribution_days,
        starts_at=row.starts_at,
        per_minute=row.per_minute,
        status=CampaignStatus(row.status),
        recipients=row.recipients,
        treatment=row.treatment,
        created_by=row.created_by,
        approved_by=row.approved_by,
        cancelled_by=row.cancelled_by,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def _recipient(row: Any) -> CampaignRecipient:
    return CampaignRecipient(
        campaign_id=row.campaign_id,
        contact_id=row.contact_id,
        arm=Arm(row.arm),
        variant=row.variant,
        status=RecipientStatus(row.status),
        reason=row.reason,
        decided_at=row.decided_at,
        attempted_at=row.attempted_at,
        sent_at=row.sent_at,
        message_id=row.message_id,
        deferred_id=row.deferred_id,
    )


class SqlCampaigns:
    """:class:`kindbot.core.ports.campaigns.CampaignRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def create(
        self,
        *,
        campaign_id: str,
        tenant_id: str,
        name: str,
        topic: str,
        audience_kind: AudienceKind,
        audience_name: str | None,
        variants: Sequence[Variant],
        holdout_share: float,
        attribution_days: int,
        starts_at: datetime | None,
        per_minute: int | None,
        status: CampaignStatus,
        created_by: str,
        recipients: Sequence[NewRecipient],
        now: datetime,
    ) -> CampaignRecord:
        await self._conn.execute(
            campaigns.insert().values(
                id=campaign_id,
                tenant_id=tenant_id,
                name=name,
                topic=topic,
                audience_kind=audience_kind.value,
                audience_name=audience_name,
                variants_json=_variants_json(variants),
                holdout_bp=round(holdout_share * BASIS_POINTS),
                attribution_days=attribution_days,
                starts_at=starts_at,
                per_minute=per_minute,
                status=status.value,
                recipients=len(recipients),
                treatment=sum(1 for r in recipients if r.arm is Arm.TREATMENT),
                created_by=created_by,
                approved_by=None,
                cancelled_by=None,
                created_at=now,
                started_at=None,
                finished_at=None,
            )
        )
        rows = [
            {
                "campaign_id": campaign_id,
                "tenant_id": tenant_id,
                "contact_id": r.contact_id,
                "arm": r.arm.value,
                "variant": r.variant,
                "status": r.status.value,
                "reason": r.reason,
                "decided_at": now,
                "attempted_at": None,
                "sent_at": None,
                "message_id": None,
                "deferred_id": None,
            }
            for r in recipients
        ]
        for start in range(0, len(rows), INSERT_CHUNK):
            await self._conn.execute(
                campaign_recipients.insert(), rows[start : start + INSERT_CHUNK]
            )
        record = await self.get(campaign_id)
        assert record is not None
        return record

    async def get(self, campaign_id: str) -> CampaignRecord | None:
        row = (
            await self._conn.execute(select(campaigns).where(campaigns.c.id == campaign_id))
        ).first()
        return _campaign(row) if row is not None else None

    async def for_tenant(self, tenant_id: str, limit: int) -> list[CampaignRecord]:
        query = (
            select(campaigns)
            .where(campaigns.c.tenant_id == tenant_id)
            .order_by(campaigns.c.created_at.desc(), campaigns.c.id.desc())
            .limit(limit)
        )
        return [_campaign(row) for row in await self._conn.execute(query)]

    async def transition(
        self,
        campaign_id: str,
        *,
        leaving: Sequence[CampaignStatus],
        to: CampaignStatus,
        approved_by: str | None = None,
        cancelled_by: str | None = None,
    ) -> bool:
        values: dict[str, Any] = {"status": to.value}
        if approved_by is not None:
            values["approved_by"] = approved_by
        if cancelled_by is not None:
            values["cancelled_by"] = cancelled_by
        result = await self._conn.execute(
            update(campaigns)
            .where(
                campaigns.c.id == campaign_id,
                campaigns.c.status.in_([status.value for status in leaving]),
            )
            .values(**values)
        )
        return bool(result.rowcount)

    async def start_due(self, now: datetime) -> list[str]:
        due = and_(
            campaigns.c.status == CampaignStatus.SCHEDULED.value,
            or_(campaigns.c.starts_at.is_(None), campaigns.c.starts_at <= now),
        )
        query = select(campaigns.c.id).where(due)
        if self._conn.dialect_name != "sqlite":
            query = query.with_for_update(skip_locked=True)
        ids = [row.id for row in await self._conn.execute(query)]
        if ids:
            await self._conn.execute(
                update(campaigns)
                .where(campaigns.c.id.in_(ids), due)
                .values(status=CampaignStatus.SENDING.value, started_at=now)
            )
        return ids

    async def sending(self) -> list[CampaignRecord]:
        query = (
            select(campaigns)
            .where(campaigns.c.status == CampaignStatus.SENDING.value)
            .order_by(campaigns.c.started_at, campaigns.c.id)
        )
        return [_campaign(row) for row in await self._conn.execute(query)]

    async def finish_if_done(self, campaign_id: str, now: datetime) -> bool:
        unsent = exists().where(
            campaign_recipients.c.campaign_id == campaign_id,
            campaign_recipients.c.status.in_(_UNSENT),
        )
        result = await self._conn.execute(
            update(campaigns)
            .where(
                campaigns.c.id == campaign_id,
                campaigns.c.status == CampaignStatus.SENDING.value,
                ~unsent,
            )
            .values(status=CampaignStatus.FINISHED.value, finished_at=now)
        )
        return bool(result.rowcount)

    async def skip_unsent(self, campaign_id: str, reason: str) -> int:
        waiting = select(campaign_recipients.c.deferred_id).where(
            campaign_recipients.c.campaign_id == campaign_id,
            campaign_recipients.c.status == RecipientStatus.DEFERRED.value,
            campaign_recipients.c.deferred_id.is_not(None),
        )
        await self._conn.execute(
            update(deferred_sends)
            .where(
                deferred_sends.c.id.in_(waiting),
                deferred_sends.c.status == DeferredStatus.WAITING.value,
            )
            .values(status=DeferredStatus.DENIED.value, lease_until=None)
        )
        result = await self._conn.execute(
            update(campaign_recipients)
            .where(
                campaign_recipients.c.campaign_id == campaign_id,
                campaign_recipients.c.status.in_(_UNSENT),
            )
            .values(status=RecipientStatus.SKIPPED.value, reason=reason)
        )
        return int(result.rowcount)

    async def planned(self, campaign_id: str, limit: int) -> list[CampaignRecipient]:
        query = (
            select(campaign_recipients)
            .where(
                campaign_recipients.c.campaign_id == campaign_id,
                campaign_recipients.c.status == RecipientStatus.PLANNED.value,
            )
            .order_by(campaign_recipients.c.contact_id)
            .limit(limit)
        )
        return [_recipient(row) for row in await self._conn.execute(query)]

    async def attempted_since(self, campaign_id: str, since: datetime) -> int:
        query = select(func.count()).where(
            campaign_recipients.c.campaign_id == campaign_id,
            campaign_recipients.c.attempted_at >= since,
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def record_outcome(
        self,
        campaign_id: str,
        contact_id: str,
        *,
        status: RecipientStatus,
        reason: str | None,
        at: datetime,
        message_id: str | None = None,
        deferred_id: str | None = None,
    ) -> bool:
        result = await self._conn.execute(
            update(campaign_recipients)
            .where(
                campaign_recipients.c.campaign_id == campaign_id,
                campaign_recipients.c.contact_id == contact_id,
                campaign_recipients.c.status == RecipientStatus.PLANNED.value,
            )
            .values(
                status=status.value,
                reason=reason,
                attempted_at=at,
                sent_at=at if status is RecipientStatus.SENT else None,
                message_id=message_id,
                deferred_id=deferred_id,
            )
        )
        return bool(result.rowcount)

    async def follow_deferred(
        self, deferred_id: str, *, message_id: str | None, reason: str | None, at: datetime
    ) -> None:
        sent = message_id is not None
        status = RecipientStatus.SENT if sent else RecipientStatus.DENIED
        await self._conn.execute(
            update(campaign_recipients)
            .where(
                campaign_recipients.c.deferred_id == deferred_id,
                campaign_recipients.c.status == RecipientStatus.DEFERRED.value,
            )
            .values(
                status=status.value,
                reason=reason,
                sent_at=at if sent else None,
                message_id=message_id,
            )
        )

    async def counts(self, campaign_id: str) -> list[RecipientCount]:
        query = (
            select(campaign_recipients.c.arm, campaign_recipients.c.status, func.count())
            .where(campaign_recipients.c.campaign_id == campaign_id)
            .group_by(campaign_recipients.c.arm, campaign_recipients.c.status)
            .order_by(campaign_recipients.c.arm, campaign_recipients.c.status)
        )
        return [
            RecipientCount(Arm(row[0]), RecipientStatus(row[1]), int(row[2]))
            for row in await self._conn.execute(query)
        ]

    async def recipients(self, campaign_id: str) -> list[CampaignRecipient]:
        query = (
            select(campaign_recipients)
            .where(campaign_recipients.c.campaign_id == campaign_id)
            .order_by(campaign_recipients.c.contact_id)
        )
        return [_recipient(row) for row in await self._conn.execute(query)]

    async def delivered(self, campaign_id: str) -> set[str]:
        query = (
            select(campaign_recipients.c.contact_id)
            .join(messages, messages.c.id == campaign_recipients.c.message_id)
            .where(
                campaign_recipients.c.campaign_id == campaign_id,
                messages.c.status == "delivered",
            )
        )
        return {row.contact_id for row in await self._conn.execute(query)}

    async def money(
        self, campaign_id: str, tenant_id: str, start: datetime, end: datetime
    ) -> list[ContactMoney]:
        be = business_events
        query = (
            select(be.c.contact_id, be.c.type, be.c.occurred_at, be.c.amount_minor, be.c.currency)
            .join(campaign_recipients, campaign_recipients.c.contact_id == be.c.contact_id)
            .where(
                campaign_recipients.c.campaign_id == campaign_id,
                be.c.tenant_id == tenant_id,
                be.c.type.in_(_MONEY_TYPES),
                be.c.amount_minor.is_not(None),
                be.c.occurred_at >= start,
                be.c.occurred_at < end,
            )
            .order_by(be.c.occurred_at, be.c.seq)
        )
        return [
            ContactMoney(
                row.contact_id, row.type, row.occurred_at, int(row.amount_minor), row.currency
            )
            for row in await self._conn.execute(query)
        ]

    async def inbound(
        self, campaign_id: str, start: datetime, end: datetime
    ) -> list[ContactMoment]:
        query = (
            select(messages.c.contact_id, messages.c.created_at)
            .join(campaign_recipients, campaign_recipients.c.contact_id == messages.c.contact_id)
            .where(
                campaign_recipients.c.campaign_id == campaign_id,
                messages.c.direction == "inbound",
                messages.c.created_at >= start,
                messages.c.created_at < end,
            )
        )
        return [
            ContactMoment(row.contact_id, row.created_at) for row in await self._conn.execute(query)
        ]

    async def complaints(
        self, campaign_id: str, tenant_id: str, start: datetime, end: datetime
    ) -> list[ContactMoment]:
        be = business_events
        query = (
            select(be.c.contact_id, be.c.occurred_at)
            .join(campaign_recipients, campaign_recipients.c.contact_id == be.c.contact_id)
            .where(
                campaign_recipients.c.campaign_id == campaign_id,
                be.c.tenant_id == tenant_id,
                be.c.type == COMPLAINT,
                be.c.occurred_at >= start,
                be.c.occurred_at < end,
            )
        )
        return [
            ContactMoment(row.contact_id, row.occurred_at)
            for row in await self._conn.execute(query)
        ]

    async def opt_outs(
        self, campaign_id: str, start: datetime, end: datetime
    ) -> list[ContactMoment]:
        withdrawn = (
            select(consents.c.contact_id, consents.c.withdrawn_at)
            .join(campaign_recipients, campaign_recipients.c.contact_id == consents.c.contact_id)
            .where(
                campaign_recipients.c.campaign_id == campaign_id,
                consents.c.withdrawn_at >= start,
                consents.c.withdrawn_at < end,
            )
        )
        by_message = (
            select(contacts.c.id, contacts.c.opted_out_at)
            .join(campaign_recipients, campaign_recipients.c.contact_id == contacts.c.id)
            .where(
                campaign_recipients.c.campaign_id == campaign_id,
                contacts.c.opted_out_at >= start,
                contacts.c.opted_out_at < end,
            )
        )
        found = [ContactMoment(row[0], row[1]) for row in await self._conn.execute(withdrawn)]
        found += [ContactMoment(row[0], row[1]) for row in await self._conn.execute(by_message)]
        return found
