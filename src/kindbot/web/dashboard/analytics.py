"""A shop's analytics: revenue = users × value per user over time, the conversion and
repurchase funnels, weekly retention, and every figure per channel; each table as CSV.

The figures are :func:`kindbot.ops.metrics.tenant_metrics` and
:func:`kindbot.ops.metrics.tenant_series` — what ``kindbot metrics`` and the
REST API return — never a second definition. The charts (Apache ECharts,
drawn by ``/static/dashboard/analytics.js`` from a JSON block, so the CSP
needs no inline script) repeat the tables beside them, which stay the
accessible form of every figure.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kindbot.analytics.periods import Period
from kindbot.analytics.series import ChannelShare, ValueSeries
from kindbot.core.errors import KindbotError
from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.metrics import channel_breakdown, tenant_metrics, tenant_series
from kindbot.web.dashboard.i18n import Lang, text
from kindbot.web.dashboard.overview import PRESETS, change, heat, requested_period
from kindbot.web.dashboard.pages import SignedInVisitor, shop_for
from kindbot.web.dashboard.rendering import render
from kindbot.web.dashboard.session import PageError, request_lang
from kindbot.web.deps import container_of

router = APIRouter(include_in_schema=False)
TABLES = ("series", "funnel", "retention", "channels")
"""The tables the page offers as CSV (``/analytics/{table}.csv``)."""


@dataclass(frozen=True, slots=True)
class Analytics:
    """Everything the page shows for one period (and optionally one channel)."""

    period: Period
    channel: str | None
    document: dict[str, Any]
    series: ValueSeries
    channels: tuple[ChannelShare, ...]


async def _analytics(request: Request, tenant: TenantRecord) -> Analytics:
    period = requested_period(request, tenant)
    channel = request.query_params.get("channel") or None
    store = container_of(request).store
    document = await tenant_metrics(store, tenant, period, channel=channel)
    series = await tenant_series(store, tenant, period, channel=channel)
    channels = tuple(await channel_breakdown(store, tenant, period)) if channel is None else ()
    return Analytics(period, channel, document, series, channels)


def funnel_rows(document: dict[str, Any]) -> list[tuple[str, int]]:
    """The two funnels of the document as ``(step key, contacts)``: new contacts → ordered
    within the conversion window; first-time buyers → ordered again within the
    repurchase window."""
    conversion, repurchase = document["conversion"], document["repurchase"]
    return [
        ("funnel.new", conversion["cohort"]),
        ("funnel.converted", conversion["converted"]),
        ("funnel.buyers", repurchase["buyers"]),
        ("funnel.repeat", repurchase["repeat"]),
    ]


def chart_data(lang: Lang, found: Analytics) -> dict[str, Any]:
    """What ``analytics.js`` draws: labels in the page's language, figures as numbers."""
    points = found.series.points
    doc = found.document
    return {
        "series": {
            "labels": [p.start.isoformat() for p in points],
            "names": [text(lang, n) for n in ("revenue", "active_users", "value_per_user")],
            "revenue": [float(p.revenue) for p in points],
            "active": [p.active for p in points],
            "value_per_user": [float(p.value_per_user) for p in points],
        },
        "funnel": [
            {"name": text(lang, key, days=doc["conversion"]["days"]), "value": n}
            for key, n in funnel_rows(doc)[:2]
        ],
        "repurchase": [
            {"name": text(lang, key, days=doc["repurchase"]["days"]), "value": n}
            for key, n in funnel_rows(doc)[2:]
        ],
        "retention": {
            "cohorts": [r["cohort_week"] for r in doc["retention"]],
            "weeks": [
                text(lang, "week_k", k=k)
                for k in range(max((len(r["rates"]) for r in doc["retention"]), default=0))
            ],
            "cells": [
                [k, i, round(rate * 100, 1)]
                for i, r in enumerate(doc["retention"])
                for k, rate in enumerate(r["rates"])
                if rate is not None
            ],
        },
    }


@router.get("/dashboard/{slug}/analytics")
async def analytics(slug: str, request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    """The period's analytics (``?from=&to=`` local dates or ``?days=``; ``?channel=``)."""
    tenant, role = await shop_for(request, visitor, slug)
    lang = request_lang(request, visitor)
    async with container_of(request).store.transaction(readonly=True) as tx:
        channels = [c.local_id for c in await tx.channels.list_for_tenant(tenant.id)]
    try:
        found = await _analytics(request, tenant)
    except KindbotError as refused:
        return render(
            request,
            "analytics.html",
            visitor,
            status=refused.http_status,
            tenant=tenant,
            role=role,
            a=None,
            error=refused.message,
            presets=PRESETS,
            channel_ids=channels,
            query="",
        )
    return render(
        request,
        "analytics.html",
        visitor,
        tenant=tenant,
        role=role,
        a=found,
        m=found.document,
        error=None,
        presets=PRESETS,
        channel_ids=channels,
        funnel=funnel_rows(found.document),
        charts=chart_data(lang, found),
        heat=heat,
        change=change,
        query=_query(found),
    )


def _query(found: Analytics) -> str:
    channel = f"&channel={found.channel}" if found.channel else ""
    return f"from={found.period.start}&to={found.period.end}{channel}"


@router.get("/dashboard/{slug}/analytics/{table}.csv")
async def analytics_csv(
    slug: str, table: str, request: Request, visitor: SignedInVisitor
) -> Response:
    """One of the page's tables (:data:`TABLES`) as CSV, for the same period and channel."""
    tenant, _ = await shop_for(request, visitor, slug)
    if table not in TABLES:
        raise PageError(404, "not_found")
    found = await _analytics(request, tenant)
    out = io.StringIO()
    csv.writer(out).writerows(_table(table, found))
    name = f"{tenant.slug}-{table}-{found.period.start}-{found.period.end}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _table(name: str, found: Analytics) -> Iterable[Sequence[object]]:
    doc = found.document
    if name == "series":
        yield ("start", "end", "active_users", "orders", "revenue", "value_per_user")
        for p in found.series.points:
            yield (p.start, p.end, p.active, p.orders, p.revenue, p.value_per_user)
    elif name == "funnel":
        yield ("step", "contacts", "window_days")
        for key, n in funnel_rows(doc):
            days = doc["conversion" if key in ("funnel.new", "funnel.converted") else "repurchase"]
            yield (key.removeprefix("funnel."), n, days["days"])
    elif name == "retention":
        weeks = max((len(r["retained"]) for r in doc["retention"]), default=0)
        yield ("cohort_week", "size", *[f"retained_{k}" for k in range(weeks)])
        for r in doc["retention"]:
            yield (r["cohort_week"], r["size"], *r["retained"])
    else:
        yield ("channel", "kind", "active_users", "orders", "revenue", "value_per_user")
        for c in found.channels:
            yield (c.channel, c.kind, c.active, c.orders, c.revenue, c.value_per_user)
