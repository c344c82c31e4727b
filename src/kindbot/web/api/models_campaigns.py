"""Bodies of the campaigns' ``/api/v1`` routes (issue 16 §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kindbot.campaigns.assignment import DEFAULT_HOLDOUT_SHARE, MAX_HOLDOUT_SHARE
from kindbot.campaigns.audiences import MAX_EXPLICIT_CONTACTS
from kindbot.campaigns.service import (
    DEFAULT_ATTRIBUTION_DAYS,
    MAX_ATTRIBUTION_DAYS,
    MAX_PER_MINUTE,
    MAX_VARIANTS,
    MAX_WEIGHT,
    CampaignCreated,
)
from kindbot.core.records.campaigns import CampaignRecord, RecipientCount
from kindbot.web.api.models_guard import PlanOut, Tag, Text, Topic


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactRefIn(_In):
    """A contact by its channel (id within the tenant) and its id there."""

    channel: Annotated[str, Field(min_length=1, max_length=64)]
    external_id: Annotated[str, Field(min_length=1, max_length=200)]


class AudienceIn(_In):
    """Exactly one of: a tag, listed contacts, or a segment's name."""

    tag: Tag | None = None
    contacts: Annotated[list[ContactRefIn], Field(max_length=MAX_EXPLICIT_CONTACTS)] = []
    segment: Annotated[str | None, Field(min_length=1, max_length=200)] = None


class VariantIn(_In):
    """One version of the message; recipients are split between variants by weight."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    text: Text
    weight: Annotated[int, Field(ge=1, le=MAX_WEIGHT)] = 1


class CampaignIn(_In):
    """A campaign. ``holdout_share`` of the audience (0–0.5, default 0.1) is held out and
    never messaged; ``draft`` keeps it a draft until ``…/submit``."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    topic: Topic
    audience: AudienceIn
    variants: Annotated[list[VariantIn], Field(min_length=1, max_length=MAX_VARIANTS)]
    holdout_share: Annotated[float, Field(ge=0, le=MAX_HOLDOUT_SHARE)] = DEFAULT_HOLDOUT_SHARE
    attribution_days: Annotated[int, Field(ge=1, le=MAX_ATTRIBUTION_DAYS)] = (
        DEFAULT_ATTRIBUTION_DAYS
    )
    starts_at: AwareDatetime | None = None
    per_minute: Annotated[int | None, Field(ge=1, le=MAX_PER_MINUTE)] = None
    draft: bool = False


class VariantOut(BaseModel):
    """One variant of a campaign."""

    name: str
    text: str
    weight: int


class CampaignOut(BaseModel):
    """A campaign: ``draft`` → ``awaiting_approval`` / ``scheduled`` → ``sending`` →
    ``finished`` (or ``cancelled``)."""

    id: str
    name: str
    topic: str
    audience_kind: str
    audience_name: str | None
    variants: list[VariantOut]
    holdout_share: float
    attribution_days: int
    starts_at: datetime | None
    per_minute: int | None
    status: str
    recipients: int
    treatment: int
    holdout: int
    created_by: str
    approved_by: str | None
    cancelled_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, record: CampaignRecord) -> CampaignOut:
        return cls(
            id=record.id,
            name=record.name,
            topic=record.topic,
            audience_kind=record.audience_kind.value,
            audience_name=record.audience_name,
            variants=[
                VariantOut(name=v.name, text=v.text, weight=v.weight) for v in record.variants
            ],
            holdout_share=record.holdout_share,
            attribution_days=record.attribution_days,
            starts_at=record.starts_at,
            per_minute=record.per_minute,
            status=record.status.value,
            recipients=record.recipients,
            treatment=record.treatment,
            holdout=record.recipients - record.treatment,
            created_by=record.created_by,
            approved_by=record.approved_by,
            cancelled_by=record.cancelled_by,
            created_at=record.created_at,
            started_at=record.started_at,
            finished_at=record.finished_at,
        )


class VariantPlanOut(BaseModel):
    """The guard's plan for one variant's recipients, as if sent now."""

    variant: str
    plan: PlanOut


class CampaignCreatedOut(BaseModel):
    """The recorded campaign and each variant's plan."""

    campaign: CampaignOut
    plans: list[VariantPlanOut]

    @classmethod
    def of(cls, created: CampaignCreated) -> CampaignCreatedOut:
        return cls(
            campaign=CampaignOut.of(created.campaign),
            plans=[
                VariantPlanOut(variant=p.variant, plan=PlanOut.of(p.plan, created.names))
                for p in created.plans
            ],
        )


class StatusCountOut(BaseModel):
    """How many recipients of an arm stand at a status."""

    arm: str
    status: str
    count: int


class CampaignDetailOut(BaseModel):
    """A campaign and its recipients per arm and status."""

    campaign: CampaignOut
    recipients: list[StatusCountOut]

    @classmethod
    def of(cls, record: CampaignRecord, counts: list[RecipientCount]) -> CampaignDetailOut:
        return cls(
            campaign=CampaignOut.of(record),
            recipients=[
                StatusCountOut(arm=c.arm.value, status=c.status.value, count=c.count)
                for c in counts
            ],
        )


class CampaignsOut(BaseModel):
    """The tenant's campaigns, newest first."""

    campaigns: list[CampaignOut]
