"""A shop's overview: the value metrics of a period and the weekly retention cohorts.

users × value per user = revenue, each against the previous period, so a shop
sees which factor moved; conversion, repurchase and conversation health beside
them. The figures are :func:`kindbot.ops.metrics.tenant_metrics` — the document
``kindbot metrics`` prints and the REST API returns — never a second definition.
The retention table downloads as CSV.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kindbot.analytics.periods import Period, check_period, parse_day, tenant_zone
from kindbot.core.errors import KindbotError
from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.metrics import tenant_metrics
from kindbot.web.dashboard.pages import SignedInVisitor, shop_for
from kindbot.web.dashboard.rendering import render
from kindbot.web.deps import container_of

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 28
PRESETS = (7, 28, 91)
HEAT_STEPS = 10


def default_period(today: date, days: int = DEFAULT_DAYS) -> Period:
    """The last ``days`` local days, today included."""
    return Period(today - timedelta(days=days - 1), today + timedelta(days=1))


def heat(rate: float | None) -> int:
    """A retention rate as one of :data:`HEAT_STEPS` + 1 shades (0 for none)."""
    return 0 if not rate else min(HEAT_STEPS, max(1, round(rate * HEAT_STEPS)))


def change(ratio: float | None) -> str | None:
    """A ratio to the previous period as a signed percentage (``+12.5%``), None without one."""
    return None if ratio is None else f"{(ratio - 1) * 100:+.1f}%"


def _today(request: Request, tenant: TenantRecord) -> date:
    now: datetime = container_of(request).clock.now()
    return now.astimezone(tenant_zone(tenant.timezone)).date()


def requested_period(request: Request, tenant: TenantRecord) -> Period:
    """The period a page asks for: ``?from=&to=`` local dates, or the last ``?days=``."""
    params = request.query_params
    if "from" in params or "to" in params:
        return check_period(
            parse_day(params.get("from", ""), "from"), parse_day(params.get("to", ""), "to")
        )
    days = int(params["days"]) if params.get("days", "").isdigit() else DEFAULT_DAYS
    return default_period(_today(request, tenant), days if days in PRESETS else DEFAULT_DAYS)


async def _document(request: Request, tenant: TenantRecord, period: Period) -> dict[str, Any]:
    channel = request.query_params.get("channel") or None
    return await tenant_metrics(container_of(request).store, tenant, period, channel=channel)


@router.get("/dashboard/{slug}/overview")
async def overview(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """The value metrics of the period (``?from=&to=`` local dates, or ``?days=``)."""
    tenant, role = await shop_for(request, visitor, slug)
    try:
        period = requested_period(request, tenant)
        document = await _document(request, tenant, period)
    except KindbotError as refused:
        return render(
            request,
            "overview.html",
            visitor,
            status=refused.http_status,
            tenant=tenant,
            role=role,
            m=None,
            error=refused.message,
            period=None,
            presets=PRESETS,
            heat=heat,
            change=change,
            last_day=None,
        )
    return render(
        request,
        "overview.html",
        visitor,
        tenant=tenant,
        role=role,
        m=document,
        error=None,
        period=period,
        presets=PRESETS,
        heat=heat,
        change=change,
        last_day=period.end - timedelta(days=1),
    )


@router.get("/dashboard/{slug}/overview/retention.csv")
async def retention_csv(slug: str, request: Request, visitor: SignedInVisitor) -> Response:
    """The weekly retention cohorts of the period as CSV (counts and rates per week k)."""
    tenant, _ = await shop_for(request, visitor, slug)
    period = requested_period(request, tenant)
    document = await _document(request, tenant, period)
    rows = document["retention"]
    weeks = max((len(r["retained"]) for r in rows), default=0)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["cohort_week", "size"]
        + [f"retained_{k}" for k in range(weeks)]
        + [f"rate_{k}" for k in range(weeks)]
    )
    for r in rows:
        pad = weeks - len(r["retained"])
        writer.writerow(
            [r["cohort_week"], r["size"], *r["retained"], *[""] * pad, *r["rates"], *[""] * pad]
        )
    name = f"{tenant.slug}-retention-{period.start}-{period.end}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
