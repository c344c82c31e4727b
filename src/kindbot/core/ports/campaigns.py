"""The campaigns' repository Protocol (issue 16 §4): campaigns, their recipients, and the
facts their report reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kindbot.core.records.campaigns import (
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


class CampaignRepository(Protocol):
    """Campaigns and their recipients.

    Every state change is conditional on the state it leaves (a transition
    that lost a race returns False and changes nothing), so two workers, or a
    worker and a person cancelling, can never both act on one campaign or one
    recipient.
    """

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
        """Record a campaign and every recipient (arm, variant, status) at once."""
        ...

    async def get(self, campaign_id: str) -> CampaignRecord | None: ...

    async def for_tenant(self, tenant_id: str, limit: int) -> list[CampaignRecord]:
        """The tenant's campaigns, newest first."""
        ...

    async def transition(
        self,
        campaign_id: str,
        *,
        leaving: Sequence[CampaignStatus],
        to: CampaignStatus,
        approved_by: str | None = None,
        cancelled_by: str | None = None,
    ) -> bool:
        """Move a campaign from one of ``leaving`` to ``to`` (recording who approved or
        cancelled it); False when it was in none of them."""
        ...

    async def start_due(self, now: datetime) -> list[str]:
        """Move every scheduled campaign whose start has come (or has none) to ``sending``;
        their ids."""
        ...

    async def sending(self) -> list[CampaignRecord]:
        """Every campaign being sent, oldest start first."""
        ...

    async def finish_if_done(self, campaign_id: str, now: datetime) -> bool:
        """Mark a sending campaign finished when no recipient is planned or deferred."""
        ...

    async def skip_unsent(self, campaign_id: str, reason: str) -> int:
        """A cancelled campaign's planned and deferred recipients become ``skipped``; the
        deferred sends still waiting for them are settled as denied. How many."""
        ...

    async def planned(self, campaign_id: str, limit: int) -> list[CampaignRecipient]:
        """Up to ``limit`` recipients still to send, in contact id order."""
        ...

    async def attempted_since(self, campaign_id: str, since: datetime) -> int:
        """How many recipients' sends were decided at or after ``since`` (the throttle)."""
        ...

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
        """Record what the guard decided for a planned recipient (``sent_at`` = ``at``
        when sent); False when it was no longer planned."""
        ...

    async def follow_deferred(
        self, deferred_id: str, *, message_id: str | None, reason: str | None, at: datetime
    ) -> None:
        """A deferred send was decided again: its recipient (if a campaign's) becomes
        ``sent`` (at ``at``, with its ``message_id``) or, without one, ``denied``."""
        ...

    async def counts(self, campaign_id: str) -> list[RecipientCount]:
        """Recipients per arm and status."""
        ...

    async def recipients(self, campaign_id: str) -> list[CampaignRecipient]:
        """Every recipient, in contact id order."""
        ...

    async def delivered(self, campaign_id: str) -> set[str]:
        """Contact ids whose campaign message is known to have left (status delivered)."""
        ...

    async def money(
        self, campaign_id: str, tenant_id: str, start: datetime, end: datetime
    ) -> list[ContactMoney]:
        """The recipients' orders and refunds with an amount, ``start`` ≤ at < ``end``."""
        ...

    async def inbound(
        self, campaign_id: str, start: datetime, end: datetime
    ) -> list[ContactMoment]:
        """The recipients' inbound messages, ``start`` ≤ at < ``end``."""
        ...

    async def complaints(
        self, campaign_id: str, tenant_id: str, start: datetime, end: datetime
    ) -> list[ContactMoment]:
        """The recipients' ``complaint`` business events, ``start`` ≤ at < ``end``."""
        ...

    async def opt_outs(
        self, campaign_id: str, start: datetime, end: datetime
    ) -> list[ContactMoment]:
        """The recipients' consent withdrawals and opt-outs by message, ``start`` ≤ at < ``end``."""
        ...
