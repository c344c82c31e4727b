"""Broadcasts and the bulk facts their guard plans read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class BroadcastStatus(StrEnum):
    """A broadcast waits for a second person's approval when it is big, then is sent."""

    AWAITING_APPROVAL = "awaiting_approval"
    SENT = "sent"


@dataclass(frozen=True, slots=True)
class BroadcastRecord:
    """One message for a topic to the contacts carrying a tag."""

    id: str
    tenant_id: str
    topic: str
    text: str
    tag: str
    recipients: int
    status: BroadcastStatus
    created_by: str
    approved_by: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PlanContact:
    """What bulk planning knows about one recipient, read in bulk."""

    contact_id: str
    channel_id: str
    channel_kind: str
    external_id: str
    is_test: bool
    followed: bool
    last_inbound_at: datetime | None


class CampaignStatus(StrEnum):
    """A campaign's life: ``draft`` → ``awaiting_approval`` or ``scheduled`` → ``sending``
    → ``finished``; ``cancelled`` from any state before ``finished``."""

    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class AudienceKind(StrEnum):
    """How a campaign's audience was named: a tag, explicit contacts, or a segment."""

    TAG = "tag"
    CONTACTS = "contacts"
    SEGMENT = "segment"


class Arm(StrEnum):
    """A recipient's arm: messaged (``treatment``) or held out as the control group."""

    TREATMENT = "treatment"
    HOLDOUT = "holdout"


class RecipientStatus(StrEnum):
    """Where one recipient of a campaign stands.

    ``planned``: waiting to be sent; ``sent``: admitted to the outbox;
    ``deferred``: the guard deferred it (a ``deferred_sends`` row decides it
    again); ``denied``: the guard (or its plan) refused it; ``holdout``: in
    the control group, never messaged; ``skipped``: the campaign was
    cancelled before it was sent.
    """

    PLANNED = "planned"
    SENT = "sent"
    DEFERRED = "deferred"
    DENIED = "denied"
    HOLDOUT = "holdout"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Variant:
    """One version of a campaign's content and its relative weight (a positive integer)."""

    name: str
    text: str
    weight: int = 1


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    """A campaign: a message (in variants) for a topic to an audience, with a holdout.

    ``holdout_share`` is the share of the audience held out (0 ≤ share ≤ 0.5),
    ``audience_name`` the tag or segment named (None for explicit contacts),
    ``per_minute`` the throttle (None: as fast as the guard allows),
    ``starts_at`` the scheduled start (None: at once once approved).
    """

    id: str
    tenant_id: str
    name: str
    topic: str
    audience_kind: AudienceKind
    audience_name: str | None
    variants: tuple[Variant, ...]
    holdout_share: float
    attribution_days: int
    starts_at: datetime | None
    per_minute: int | None
    status: CampaignStatus
    recipients: int
    treatment: int
    created_by: str
    approved_by: str | None
    cancelled_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewRecipient:
    """A recipient decided before any send: its arm, its variant (None in the holdout)."""

    contact_id: str
    arm: Arm
    variant: str | None
    status: RecipientStatus
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class CampaignRecipient:
    """One recipient of a campaign as recorded (``attempted_at``: when the guard decided
    its send; ``sent_at``: when it was admitted to the outbox)."""

    campaign_id: str
    contact_id: str
    arm: Arm
    variant: str | None
    status: RecipientStatus
    reason: str | None
    decided_at: datetime
    attempted_at: datetime | None
    sent_at: datetime | None
    message_id: str | None
    deferred_id: str | None


@dataclass(frozen=True, slots=True)
class RecipientCount:
    """How many recipients of one arm stand at one status."""

    arm: Arm
    status: RecipientStatus
    count: int


@dataclass(frozen=True, slots=True)
class ContactMoney:
    """An order or refund of a recipient (minor units of ``currency``)."""

    contact_id: str
    type: str
    occurred_at: datetime
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class ContactMoment:
    """Something a recipient did at a time (an inbound message, an opt-out)."""

    contact_id: str
    at: datetime
