"""A shop's campaigns: create one from a segment (or a tag) and a consent topic, see the
guard's plan — who may receive it and, per rule, why not — approve it as a second
person, follow its delivery live, and read its report against the holdout.

Shop admins create, approve and cancel; viewers read; agents are refused (403).
Every action is :class:`kindbot.campaigns.service.Campaigns`, the REST API's
service, so a campaign made here is planned, approved, throttled and sent through
the guard exactly like one made over the API; the creator can never approve it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kindbot.analytics.campaign_documents import report_csv, report_document
from kindbot.campaigns.audiences import AudienceSpec
from kindbot.campaigns.service import CampaignDraft, VariantPlan
from kindbot.core.errors import BadRequestError, KindbotError
from kindbot.core.records.accounts import Role
from kindbot.core.records.campaigns import CampaignStatus, RecipientCount, Variant
from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.campaigns import campaign_report
from kindbot.ops.segments import list_segments
from kindbot.web.dashboard.pages import SignedInVisitor, shop_for, shop_form
from kindbot.web.dashboard.rendering import render
from kindbot.web.dashboard.session import PageError, request_lang
from kindbot.web.deps import container_of

router = APIRouter(include_in_schema=False)
READERS = (Role.TENANT_ADMIN, Role.VIEWER)
ADMINS = (Role.TENANT_ADMIN,)
LIVE = frozenset({CampaignStatus.SCHEDULED, CampaignStatus.SENDING})
"""Statuses whose progress the page refreshes every few seconds."""


@dataclass(frozen=True, slots=True)
class CampaignForm:
    """The create form as typed (kept to show again with the reason it was refused)."""

    name: str = ""
    audience: str = ""
    topic: str = ""
    text_a: str = ""
    text_b: str = ""
    holdout: str = "10"
    days: str = "7"
    starts_at: str = ""
    per_minute: str = ""


def _number(value: str, field: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise BadRequestError(f"{field}: a number", code="invalid_campaign") from None
    if not low <= number <= high:
        raise BadRequestError(f"{field}: from {low:g} to {high:g}", code="invalid_campaign")
    return number


def draft_of(form: CampaignForm, timezone: str) -> CampaignDraft:
    """The campaign the form asks for (400 ``invalid_campaign`` naming the field).

    ``audience`` is ``segment:NAME`` or ``tag:NAME``; ``starts_at`` a local
    ``YYYY-MM-DDTHH:MM`` in the shop's time zone (empty: at once).
    """
    kind, _, name = form.audience.partition(":")
    if kind not in ("segment", "tag") or not name:
        raise BadRequestError("audience: choose a segment or a tag", code="invalid_campaign")
    audience = AudienceSpec(segment=name) if kind == "segment" else AudienceSpec(tag=name)
    variants = [Variant("A", form.text_a.strip())]
    if form.text_b.strip():
        variants.append(Variant("B", form.text_b.strip()))
    starts_at = None
    if form.starts_at.strip():
        try:
            local = datetime.fromisoformat(form.starts_at.strip())
        except ValueError:
            raise BadRequestError("starts_at: a date and time", code="invalid_campaign") from None
        starts_at = local.replace(tzinfo=ZoneInfo(timezone))
    per_minute = form.per_minute.strip()
    return CampaignDraft(
        name=form.name.strip(),
        topic=form.topic.strip(),
        audience=audience,
        variants=tuple(variants),
        holdout_share=_number(form.holdout, "holdout", 0, 50) / 100,
        attribution_days=int(_number(form.days, "attribution_days", 1, 90)),
        starts_at=starts_at,
        per_minute=int(_number(per_minute, "per_minute", 1, 100_000)) if per_minute else None,
    )


async def _list_page(
    request: Request,
    visitor: SignedInVisitor,
    tenant: TenantRecord,
    role: Role,
    *,
    status: int = 200,
    form: CampaignForm | None = None,
    error: str | None = None,
) -> HTMLResponse:
    container = container_of(request)
    campaigns = await container.campaigns.list(tenant.slug)
    segments = await list_segments(container.store, tenant)
    return render(
        request,
        "campaigns.html",
        visitor,
        status=status,
        tenant=tenant,
        role=role,
        campaigns=campaigns,
        segments=[s.name for s in segments],
        form=form or CampaignForm(),
        error=error,
    )


@router.get("/dashboard/{slug}/campaigns")
async def campaigns_page(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """The shop's campaigns, newest first, and (for admins) the form to create one."""
    tenant, role = await shop_for(request, visitor, slug, READERS)
    return await _list_page(request, visitor, tenant, role)


@router.post("/dashboard/{slug}/campaigns")
async def create_campaign(
    slug: str,
    request: Request,
    visitor: SignedInVisitor,
    csrf: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=300)] = "",
    audience: Annotated[str, Form(max_length=200)] = "",
    topic: Annotated[str, Form(max_length=100)] = "",
    text_a: Annotated[str, Form(max_length=5000)] = "",
    text_b: Annotated[str, Form(max_length=5000)] = "",
    holdout: Annotated[str, Form(max_length=10)] = "10",
    days: Annotated[str, Form(max_length=10)] = "7",
    starts_at: Annotated[str, Form(max_length=40)] = "",
    per_minute: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Plan and record the campaign; it then waits for a second person or its start."""
    tenant, role = await shop_form(request, visitor, slug, csrf, ADMINS)
    form = CampaignForm(name, audience, topic, text_a, text_b, holdout, days, starts_at, per_minute)
    container = container_of(request)
    try:
        created = await container.campaigns.create(
            tenant.slug, draft_of(form, tenant.timezone), created_by=f"user:{visitor.user.email}"
        )
    except KindbotError as refused:
        return await _list_page(
            request, visitor, tenant, role, status=400, form=form, error=refused.message
        )
    return RedirectResponse(f"/dashboard/{slug}/campaigns/{created.campaign.id}", status_code=303)


def progress(counts: list[RecipientCount]) -> dict[str, int]:
    """Recipients per status (the holdout as its own status)."""
    found: dict[str, int] = {}
    for c in counts:
        found[c.status.value] = found.get(c.status.value, 0) + c.count
    return found


def plan_chart(plans: tuple[VariantPlan, ...], lang: str) -> dict[str, Any]:
    """What ``campaigns.js`` draws: per rule (and decision), how many recipients."""
    rows: dict[tuple[str, str], int] = {}
    for plan in plans:
        for line in plan.plan.lines:
            key = (line.decision.value, line.rule)
            rows[key] = rows.get(key, 0) + line.count
    return {
        "labels": [f"{decision} · {rule}" for decision, rule in rows],
        "decisions": [decision for decision, _ in rows],
        "counts": list(rows.values()),
        "lang": lang,
    }


async def _campaign(request: Request, tenant: TenantRecord, campaign_id: str) -> dict[str, Any]:
    container = container_of(request)
    try:
        record, counts = await container.campaigns.get(tenant.slug, campaign_id)
        plans = await container.campaigns.plan_of(tenant.slug, campaign_id)
        report = await campaign_report(container.store, container.clock, tenant.slug, campaign_id)
    except KindbotError as refused:
        if refused.http_status == 404:
            raise PageError(404, "not_found") from None
        raise
    return {
        "campaign": record,
        "counts": progress(counts),
        "plans": plans,
        "report": report_document(report),
        "live": record.status in LIVE,
    }


@router.get("/dashboard/{slug}/campaigns/{campaign_id}")
async def campaign_page(
    slug: str, campaign_id: str, request: Request, visitor: SignedInVisitor
) -> HTMLResponse:
    """One campaign: its plan per rule, approval, live progress and report."""
    tenant, role = await shop_for(request, visitor, slug, READERS)
    shown = await _campaign(request, tenant, campaign_id)
    lang = request_lang(request, visitor).value
    return render(
        request,
        "campaign.html",
        visitor,
        tenant=tenant,
        role=role,
        chart=plan_chart(shown["plans"], lang),
        notice=request.query_params.get("done"),
        error=None,
        **shown,
    )


@router.get("/dashboard/{slug}/campaigns/{campaign_id}/progress")
async def campaign_progress(
    slug: str, campaign_id: str, request: Request, visitor: SignedInVisitor
) -> HTMLResponse:
    """The progress fragment (htmx refreshes it while the campaign is scheduled or sending)."""
    tenant, role = await shop_for(request, visitor, slug, READERS)
    shown = await _campaign(request, tenant, campaign_id)
    return render(request, "campaign_progress.html", visitor, tenant=tenant, role=role, **shown)


@router.get("/dashboard/{slug}/campaigns/{campaign_id}/report.csv")
async def campaign_csv(
    slug: str, campaign_id: str, request: Request, visitor: SignedInVisitor
) -> Response:
    """The report as CSV (one row per arm)."""
    tenant, _ = await shop_for(request, visitor, slug, READERS)
    container = container_of(request)
    try:
        report = await campaign_report(container.store, container.clock, tenant.slug, campaign_id)
    except KindbotError:
        raise PageError(404, "not_found") from None
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}.csv"'},
    )


async def _act(
    request: Request,
    visitor: SignedInVisitor,
    slug: str,
    campaign_id: str,
    csrf: str,
    action: str,
) -> Response:
    tenant, role = await shop_form(request, visitor, slug, csrf, ADMINS)
    campaigns = container_of(request).campaigns
    actor = f"user:{visitor.user.email}"
    try:
        if action == "approve":
            await campaigns.approve(tenant.slug, campaign_id, actor)
        else:
            await campaigns.cancel(tenant.slug, campaign_id, actor)
    except KindbotError as refused:
        if refused.http_status == 404:
            raise PageError(404, "not_found") from None
        shown = await _campaign(request, tenant, campaign_id)
        return render(
            request,
            "campaign.html",
            visitor,
            status=refused.http_status,
            tenant=tenant,
            role=role,
            chart=plan_chart(shown["plans"], request_lang(request, visitor).value),
            notice=None,
            error=refused.message,
            **shown,
        )
    return RedirectResponse(
        f"/dashboard/{slug}/campaigns/{campaign_id}?done={action}", status_code=303
    )


@router.post("/dashboard/{slug}/campaigns/{campaign_id}/approve")
async def approve(
    slug: str,
    campaign_id: str,
    request: Request,
    visitor: SignedInVisitor,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """A second shop admin approves (never the campaign's creator)."""
    return await _act(request, visitor, slug, campaign_id, csrf, "approve")


@router.post("/dashboard/{slug}/campaigns/{campaign_id}/cancel")
async def cancel(
    slug: str,
    campaign_id: str,
    request: Request,
    visitor: SignedInVisitor,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Stop the campaign: what is not sent yet is never sent."""
    return await _act(request, visitor, slug, campaign_id, csrf, "cancel")
