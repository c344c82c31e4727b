"""A campaign's report: its facts read in one read-only transaction, its figures defined in
:mod:`kindbot.analytics.campaigns`.

:func:`campaign_report` is what ``kindbot campaign report`` and ``GET
/api/v1/tenants/{slug}/campaigns/{id}/report`` both call, so the two cannot
drift.
"""

from __future__ import annotations

from datetime import timedelta

from kindbot.analytics.campaigns import (
    REACTION_WINDOW,
    CampaignReport,
    ReportFacts,
    build_report,
)
from kindbot.analytics.money import DEFAULT_CURRENCY
from kindbot.campaigns.service import find_campaign
from kindbot.core.ports.seams import Clock, Store
from kindbot.core.records.campaigns import ContactMoment, ContactMoney


async def campaign_report(
    store: Store, clock: Clock, tenant_slug: str, campaign_id: str
) -> CampaignReport:
    """The campaign's report now; 404 ``unknown_tenant`` / ``unknown_campaign``.

    Events are read from the earliest anchor (the campaign's start) to the
    latest anchor plus the attribution window (replies and opt-outs: plus 48
    hours); :func:`kindbot.analytics.campaigns.build_report` keeps each
    recipient's own window.
    """
    now = clock.now()
    money: tuple[ContactMoney, ...] = ()
    inbound: tuple[ContactMoment, ...] = ()
    opt_outs: tuple[ContactMoment, ...] = ()
    complaints: tuple[ContactMoment, ...] = ()
    delivered: frozenset[str] = frozenset()
    async with store.transaction(readonly=True) as tx:
        _, record = await find_campaign(tx, tenant_slug, campaign_id)
        recipients = tuple(await tx.campaigns.recipients(record.id))
        if record.started_at is not None:
            sent = [r.sent_at for r in recipients if r.sent_at is not None]
            start = min([record.started_at, *sent])
            last = max([record.started_at, *sent])
            money_end = last + timedelta(days=record.attribution_days)
            money = tuple(await tx.campaigns.money(record.id, record.tenant_id, start, money_end))
            reactions_end = last + REACTION_WINDOW
            inbound = tuple(await tx.campaigns.inbound(record.id, start, reactions_end))
            opt_outs = tuple(await tx.campaigns.opt_outs(record.id, start, reactions_end))
            complaints = tuple(
                await tx.campaigns.complaints(record.id, record.tenant_id, start, reactions_end)
            )
            delivered = frozenset(await tx.campaigns.delivered(record.id))
    return build_report(
        ReportFacts(
            campaign=record,
            recipients=recipients,
            delivered=delivered,
            money=money,
            inbound=inbound,
            opt_outs=opt_outs,
            currency=DEFAULT_CURRENCY,
            now=now,
            complaints=complaints,
        )
    )
