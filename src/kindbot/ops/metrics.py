"""The metrics document of a tenant for a period: read in storage, defined in analytics.

:func:`tenant_metrics` is what ``kindbot metrics`` and ``GET
/api/v1/tenants/{slug}/metrics`` both call, so the two cannot drift. The
aggregations run in SQL (``tx.metrics``, one read-only transaction); the
definitions are :mod:`kindbot.analytics.metrics`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kindbot.analytics.metrics import (
    DEFAULT_CONVERSION_DAYS,
    DEFAULT_REPURCHASE_DAYS,
    MAX_WINDOW_DAYS,
    MetricsFacts,
    metrics_document,
)
from kindbot.analytics.money import DEFAULT_CURRENCY, MINOR_DIGITS
from kindbot.analytics.periods import Period, cohort_mondays, local_midnight, tenant_zone
from kindbot.analytics.series import (
    ChannelShare,
    ValueSeries,
    bucket_starts,
    channel_shares,
    value_series,
)
from kindbot.core.errors import BadRequestError
from kindbot.core.ports.seams import Store
from kindbot.core.records.analytics import MetricsScope
from kindbot.core.records.tenancy import TenantRecord
from kindbot.ops.contacts import find_channel


def check_window(days: int, field: str) -> int:
    """A conversion or repurchase window of 1 to :data:`MAX_WINDOW_DAYS` days."""
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise BadRequestError(
            f"{field}: between 1 and {MAX_WINDOW_DAYS} days", code="invalid_window"
        )
    return days


async def tenant_metrics(
    store: Store,
    tenant: TenantRecord,
    period: Period,
    *,
    conversion_days: int = DEFAULT_CONVERSION_DAYS,
    repurchase_days: int = DEFAULT_REPURCHASE_DAYS,
    channel: str | None = None,
) -> dict[str, Any]:
    """The metrics document (keys: :data:`kindbot.analytics.metrics.KEYS`).

    ``channel`` (a channel's id within the tenant) limits every figure to that
    channel's contacts, messages, events and consents; 404 ``unknown_channel``.
    """
    check_window(conversion_days, "conversion_days")
    check_window(repurchase_days, "repurchase_days")
    zone = tenant_zone(tenant.timezone)
    start, end = period.instants(zone)
    previous = period.previous().instants(zone)
    mondays = cohort_mondays(period)
    bounds = [local_midnight(m, zone) for m in mondays]
    if mondays:
        bounds.append(local_midnight(mondays[-1] + timedelta(weeks=1), zone))
    currency = DEFAULT_CURRENCY
    async with store.transaction(readonly=True) as tx:
        scope = MetricsScope(tenant.id)
        if channel is not None:
            scope = MetricsScope(tenant.id, (await find_channel(tx, tenant, channel)).id)
        facts = MetricsFacts(
            period=period,
            currency=currency,
            currency_digits=MINOR_DIGITS[currency],
            active=await tx.metrics.active_contacts(scope, start, end),
            new_contacts=tuple(await tx.metrics.new_contacts(scope, start, end)),
            money=await tx.metrics.money(scope, start, end, currency),
            buyers=tuple(await tx.metrics.first_buyers(scope, start, end)),
            previous_active=await tx.metrics.active_contacts(scope, *previous),
            previous_money=await tx.metrics.money(scope, *previous, currency),
            mondays=tuple(mondays),
            cohorts=tuple(await tx.metrics.cohort_activity(scope, bounds)),
            conversations=await tx.metrics.conversation_facts(scope, start, end),
            conversion_days=conversion_days,
            repurchase_days=repurchase_days,
        )
    return metrics_document(facts)


async def tenant_series(
    store: Store, tenant: TenantRecord, period: Period, *, channel: str | None = None
) -> ValueSeries:
    """Active users, orders, revenue and value per user per day (periods up to 31 days)
    or per week (:mod:`kindbot.analytics.series`); ``channel`` as for :func:`tenant_metrics`."""
    zone = tenant_zone(tenant.timezone)
    starts = bucket_starts(period)
    bounds = [local_midnight(day, zone) for day in starts]
    currency = DEFAULT_CURRENCY
    async with store.transaction(readonly=True) as tx:
        scope = MetricsScope(tenant.id)
        if channel is not None:
            scope = MetricsScope(tenant.id, (await find_channel(tx, tenant, channel)).id)
        facts = await tx.metrics.series(scope, bounds, currency)
    return value_series(period, starts, facts, MINOR_DIGITS[currency])


async def channel_breakdown(
    store: Store, tenant: TenantRecord, period: Period
) -> list[ChannelShare]:
    """Each of the tenant's channels' active users, orders, revenue and value per user in
    the period (two grouped statements, whatever the number of channels)."""
    start, end = period.instants(tenant_zone(tenant.timezone))
    currency = DEFAULT_CURRENCY
    async with store.transaction(readonly=True) as tx:
        channels = await tx.channels.list_for_tenant(tenant.id)
        facts = await tx.metrics.by_channel(tenant.id, start, end, currency)
    named = [(c.id, c.local_id, c.kind) for c in channels]
    return channel_shares(named, facts, MINOR_DIGITS[currency])
