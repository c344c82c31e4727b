"""``/api/v1/tenants/{slug}/events`` and ``/metrics``: the shop's business events in,
the value metrics out (issue 16). Both call the same :mod:`kindbot.ops` functions
as ``kindbot events import`` and ``kindbot metrics``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel

from kindbot.analytics.events import MAX_BATCH
from kindbot.analytics.metrics import DEFAULT_CONVERSION_DAYS, DEFAULT_REPURCHASE_DAYS
from kindbot.analytics.periods import check_period, parse_day
from kindbot.analytics.series import ValueSeries
from kindbot.core.errors import BadRequestError
from kindbot.ops.events import record_events
from kindbot.ops.metrics import tenant_metrics, tenant_series
from kindbot.web.api.auth import TenantAccess
from kindbot.web.api.models import ERRORS, ErrorBody
from kindbot.web.body import read_limited_body
from kindbot.web.deps import container_of

router = APIRouter(tags=["analytics"], responses=ERRORS)

MAX_EVENTS_BODY = MAX_BATCH * 6 * 1024
"""A full batch of events with 4 KiB of properties each fits."""


class EventsAccepted(BaseModel):
    """What a batch did: ``accepted`` events stored, ``duplicates`` ignored (their
    ``event_id`` was already stored, or repeated in the batch)."""

    accepted: int
    duplicates: int


EVENTS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["events"],
                "properties": {
                    "events": {
                        "type": "array",
                        "maxItems": MAX_BATCH,
                        "items": {"type": "object"},
                        "description": "Business events (fields: see kindbot.analytics.events).",
                    }
                },
            },
            "example": {
                "events": [
                    {
                        "event_id": "o-1001",
                        "type": "order",
                        "occurred_at": "2026-12-01T20:15:00+08:00",
                        "channel": "web",
                        "external_id": "visitor-42",
                        "amount": "128.00",
                        "currency": "CNY",
                        "order_id": "1001",
                    }
                ]
            },
        }
    },
}


@router.post(
    "/tenants/{slug}/events",
    status_code=status.HTTP_200_OK,
    openapi_extra={"requestBody": EVENTS_BODY},
    responses={
        413: {"model": ErrorBody, "description": "More than 1,000 events (`too_many_events`)"},
        422: {
            "model": ErrorBody,
            "description": "Invalid events (`invalid_events`; `problems` names index and field); "
            "nothing was stored",
        },
    },
)
async def post_events(tenant: TenantAccess, request: Request) -> EventsAccepted:
    """Record a batch of at most 1,000 business events, all or nothing.

    Body ``{"events": [...]}``. A repeated ``event_id`` is accepted and ignored
    (counted in ``duplicates``); a contact named by ``channel`` +
    ``external_id`` that kindbot has not seen is created (source ``event``,
    no consent implied). Amounts are decimal strings or numbers, stored
    exactly as integer minor units.
    """
    raw = await read_limited_body(request, MAX_EVENTS_BODY)
    try:
        body = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise BadRequestError("body is not valid JSON", code="invalid_json") from None
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list) or (isinstance(body, dict) and set(body) - {"events"}):
        raise BadRequestError(
            'body: a JSON object {"events": [...]} and nothing else', code="invalid_request"
        )
    container = container_of(request)
    outcome = await record_events(container.store, tenant, events, container.clock.now())
    return EventsAccepted(accepted=outcome.accepted, duplicates=outcome.duplicates)


@router.get("/tenants/{slug}/metrics")
async def get_metrics(
    tenant: TenantAccess,
    request: Request,
    start: Annotated[str, Query(alias="from", description="First local date, YYYY-MM-DD.")],
    end: Annotated[str, Query(alias="to", description="Local date after the last, YYYY-MM-DD.")],
    conversion_days: int = DEFAULT_CONVERSION_DAYS,
    repurchase_days: int = DEFAULT_REPURCHASE_DAYS,
    channel: Annotated[
        str | None, Query(description="Only this channel's contacts (its id in the tenant).")
    ] = None,
) -> dict[str, Any]:
    """The value metrics of ``[from, to)`` (local dates in the tenant's time zone).

    Keys: ``period``, ``users``, ``orders``, ``revenue``, ``value_per_user``,
    ``conversion``, ``repurchase``, ``previous``, ``value_decomposition``,
    ``retention``, ``conversations`` (definitions: ``kindbot.analytics.metrics``).
    """
    period = check_period(parse_day(start, "from"), parse_day(end, "to"))
    return await tenant_metrics(
        container_of(request).store,
        tenant,
        period,
        conversion_days=conversion_days,
        repurchase_days=repurchase_days,
        channel=channel,
    )


class SeriesPointOut(BaseModel):
    """One bucket ``[start, end)`` of local dates (money as decimal strings)."""

    start: str
    end: str
    active: int
    orders: int
    revenue: str
    value_per_user: str


class SeriesOut(BaseModel):
    """The period cut into days (up to 31 days) or ISO weeks, oldest first."""

    granularity: str
    points: list[SeriesPointOut]

    @classmethod
    def of(cls, series: ValueSeries) -> SeriesOut:
        """The body of a computed series."""
        return cls(
            granularity=series.granularity,
            points=[
                SeriesPointOut(
                    start=p.start.isoformat(),
                    end=p.end.isoformat(),
                    active=p.active,
                    orders=p.orders,
                    revenue=p.revenue,
                    value_per_user=p.value_per_user,
                )
                for p in series.points
            ],
        )


@router.get("/tenants/{slug}/metrics/series")
async def get_series(
    tenant: TenantAccess,
    request: Request,
    start: Annotated[str, Query(alias="from", description="First local date, YYYY-MM-DD.")],
    end: Annotated[str, Query(alias="to", description="Local date after the last, YYYY-MM-DD.")],
    channel: Annotated[
        str | None, Query(description="Only this channel's contacts (its id in the tenant).")
    ] = None,
) -> SeriesOut:
    """Revenue = active users × value per user, per day or per week of ``[from, to)``.

    Each bucket follows the metrics' definitions; a contact active in two
    buckets counts in both.
    """
    period = check_period(parse_day(start, "from"), parse_day(end, "to"))
    series = await tenant_series(container_of(request).store, tenant, period, channel=channel)
    return SeriesOut.of(series)
