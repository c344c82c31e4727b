"""Campaigns over ``/api/v1`` (issue 16 §4): create, list, show, submit, approve, cancel,
and the report (JSON, or CSV with ``?format=csv``).

Sending is never done here: the campaign worker (``kindbot worker``, or the
server's in-process workers on embedded storage) sends a scheduled campaign
through the guard. The report is :func:`kindbot.ops.campaigns.campaign_report`,
the same the CLI prints.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status

from kindbot.analytics.campaign_documents import report_csv, report_document
from kindbot.campaigns.audiences import AudienceSpec
from kindbot.campaigns.service import CampaignDraft
from kindbot.core.records.campaigns import Variant
from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.campaigns import campaign_report
from kindbot.ops.contacts import check_ref, find_contact
from kindbot.web.api.auth import CurrentPrincipal, TenantAccess
from kindbot.web.api.models import ERRORS
from kindbot.web.api.models_campaigns import (
    AudienceIn,
    CampaignCreatedOut,
    CampaignDetailOut,
    CampaignIn,
    CampaignOut,
    CampaignsOut,
)
from kindbot.web.deps import container_of

router = APIRouter(tags=["campaigns"], responses=ERRORS)

CAMPAIGN = "/tenants/{slug}/campaigns/{campaign_id}"


async def _audience(request: Request, tenant: TenantRecord, audience: AudienceIn) -> AudienceSpec:
    ids: list[str] = []
    if audience.contacts:
        async with container_of(request).store.transaction(readonly=True) as tx:
            for ref in audience.contacts:
                contact = (await find_contact(tx, tenant, check_ref(ref.channel, ref.external_id)))[
                    1
                ]
                ids.append(contact.id)
    return AudienceSpec(tag=audience.tag, contact_ids=tuple(ids), segment=audience.segment)


@router.post(
    "/tenants/{slug}/campaigns",
    status_code=status.HTTP_201_CREATED,
    responses={400: {"description": "`invalid_campaign`, `invalid_audience` or `empty_audience`"}},
)
async def create_campaign(
    body: CampaignIn, tenant: TenantAccess, principal: CurrentPrincipal, request: Request
) -> CampaignCreatedOut:
    """Record a campaign: its audience resolved, each contact assigned to the treatment or
    the holdout (and a variant) before anything is sent, and the guard's plan per variant.

    It is ``scheduled`` (sent by the worker from ``starts_at``), ``awaiting_approval``
    when its treatment arm is above the tenant's ``human_confirm_over``, or a ``draft``.
    """
    draft = CampaignDraft(
        name=body.name,
        topic=body.topic,
        audience=await _audience(request, tenant, body.audience),
        variants=tuple(Variant(v.name, v.text, v.weight) for v in body.variants),
        holdout_share=body.holdout_share,
        attribution_days=body.attribution_days,
        starts_at=body.starts_at,
        per_minute=body.per_minute,
    )
    created = await container_of(request).campaigns.create(
        tenant.slug, draft, created_by=principal.actor, submit=not body.draft
    )
    return CampaignCreatedOut.of(created)


@router.get("/tenants/{slug}/campaigns")
async def list_campaigns(tenant: TenantAccess, request: Request) -> CampaignsOut:
    """The tenant's campaigns, newest first (at most 200)."""
    records = await container_of(request).campaigns.list(tenant.slug)
    return CampaignsOut(campaigns=[CampaignOut.of(r) for r in records])


@router.get(CAMPAIGN)
async def get_campaign(
    campaign_id: str, tenant: TenantAccess, request: Request
) -> CampaignDetailOut:
    """One campaign and its recipients per arm and status."""
    record, counts = await container_of(request).campaigns.get(tenant.slug, campaign_id)
    return CampaignDetailOut.of(record, counts)


@router.post(CAMPAIGN + "/submit", responses={400: {"description": "`not_draft`"}})
async def submit_campaign(
    campaign_id: str, tenant: TenantAccess, principal: CurrentPrincipal, request: Request
) -> CampaignOut:
    """A draft goes to approval (above ``human_confirm_over``) or is scheduled."""
    record = await container_of(request).campaigns.submit(tenant.slug, campaign_id, principal.actor)
    return CampaignOut.of(record)


@router.post(
    CAMPAIGN + "/approve",
    responses={400: {"description": "`same_approver` or `not_awaiting`"}},
)
async def approve_campaign(
    campaign_id: str, tenant: TenantAccess, principal: CurrentPrincipal, request: Request
) -> CampaignOut:
    """A second person (never the creator) approves; the campaign is then scheduled."""
    record = await container_of(request).campaigns.approve(
        tenant.slug, campaign_id, principal.actor
    )
    return CampaignOut.of(record)


@router.post(CAMPAIGN + "/cancel", responses={400: {"description": "`not_cancellable`"}})
async def cancel_campaign(
    campaign_id: str, tenant: TenantAccess, principal: CurrentPrincipal, request: Request
) -> CampaignOut:
    """Stop a campaign that has not finished; nothing not yet sent is sent."""
    record = await container_of(request).campaigns.cancel(tenant.slug, campaign_id, principal.actor)
    return CampaignOut.of(record)


@router.get(
    CAMPAIGN + "/report",
    responses={200: {"content": {"text/csv": {}}, "description": "The report (JSON or CSV)"}},
)
async def get_campaign_report(
    campaign_id: str,
    tenant: TenantAccess,
    request: Request,
    output: Annotated[
        Literal["json", "csv"], Query(alias="format", description="json (default) or csv")
    ] = "json",
) -> Any:
    """Incremental conversion against the holdout: per arm size, sends, delivered,
    conversions, revenue, replies and opt-outs; the uplift with its 95 % Wald interval,
    incremental revenue per recipient, and ``flagged`` (definitions:
    ``kindbot.analytics.campaigns``)."""
    container = container_of(request)
    report = await campaign_report(container.store, container.clock, tenant.slug, campaign_id)
    if output == "csv":
        filename = f"campaign-{report.campaign.id}.csv"
        return Response(
            report_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return report_document(report)
