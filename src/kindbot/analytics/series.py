"""Revenue = users × value per user over time: the period cut into buckets (pure).

A period of up to :data:`DAILY_UP_TO` days is cut into local days, a longer one
into ISO weeks (Monday start; the first and last may be partial, clipped to
the period). Each bucket's figures follow the metrics' definitions
(:mod:`kindbot.analytics.metrics`): *active* contacts had activity (an inbound
message or a business event) in the bucket, *revenue* is order amounts minus
refund amounts by ``occurred_at``, *value per user* is revenue / active (0 when
nobody was active). A contact active in two buckets counts in both, so the
buckets' active users do not add up to the period's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from kindbot.analytics.metrics import value_per_user
from kindbot.analytics.money import format_fraction
from kindbot.analytics.periods import Period
from kindbot.core.records.analytics import BucketFacts, ChannelFacts

DAILY_UP_TO = 31
"""Longest period shown day by day; longer ones go week by week."""


class Granularity:
    """How a series is bucketed."""

    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One bucket ``[start, end)`` of local dates with its figures (money as decimal strings)."""

    start: date
    end: date
    active: int
    orders: int
    revenue: str
    value_per_user: str


@dataclass(frozen=True, slots=True)
class ValueSeries:
    """The period's buckets, oldest first, and how they were cut."""

    period: Period
    granularity: str
    points: tuple[SeriesPoint, ...]


def granularity_of(period: Period) -> str:
    """Days for a period of up to :data:`DAILY_UP_TO` days, weeks beyond."""
    return Granularity.DAY if period.days <= DAILY_UP_TO else Granularity.WEEK


def bucket_starts(period: Period) -> list[date]:
    """The local dates each bucket starts on, then ``period.end`` (one more than buckets).

    Weekly buckets start on Mondays, except the first, which starts on
    ``period.start`` whatever its weekday.
    """
    if granularity_of(period) == Granularity.DAY:
        return [period.start + timedelta(days=k) for k in range(period.days + 1)]
    starts = [period.start]
    monday = period.start + timedelta(days=(7 - period.start.weekday()) % 7 or 7)
    while monday < period.end:
        starts.append(monday)
        monday += timedelta(weeks=1)
    return [*starts, period.end]


def value_series(
    period: Period, starts: Sequence[date], facts: Sequence[BucketFacts], digits: int
) -> ValueSeries:
    """Every bucket of ``starts`` (from :func:`bucket_starts`) with its figures;
    buckets without facts are zero. ``digits`` is the currency's minor digits."""
    by_index = {f.index: f for f in facts}
    points = []
    for i in range(len(starts) - 1):
        found = by_index.get(i, BucketFacts(i, 0, 0, 0, 0))
        revenue_minor = found.order_minor - found.refund_minor
        revenue = Fraction(revenue_minor, 10**digits)
        per_user = value_per_user(revenue_minor, found.active, digits)
        points.append(
            SeriesPoint(
                start=starts[i],
                end=starts[i + 1],
                active=found.active,
                orders=found.orders,
                revenue=format_fraction(revenue, digits),
                value_per_user=format_fraction(per_user, 2),
            )
        )
    return ValueSeries(period, granularity_of(period), tuple(points))


@dataclass(frozen=True, slots=True)
class ChannelShare:
    """One channel's part of a period (the metrics' definitions, limited to its contacts)."""

    channel: str
    kind: str
    active: int
    orders: int
    revenue: str
    value_per_user: str


def channel_shares(
    channels: Sequence[tuple[str, str, str]], facts: Sequence[ChannelFacts], digits: int
) -> list[ChannelShare]:
    """Every channel ``(id, local id, kind)`` with its figures (zero without facts)."""
    by_id = {f.channel_id: f for f in facts}
    shares = []
    for channel_id, local_id, kind in channels:
        found = by_id.get(channel_id, ChannelFacts(channel_id, 0, 0, 0, 0))
        revenue_minor = found.order_minor - found.refund_minor
        shares.append(
            ChannelShare(
                channel=local_id,
                kind=kind,
                active=found.active,
                orders=found.orders,
                revenue=format_fraction(Fraction(revenue_minor, 10**digits), digits),
                value_per_user=format_fraction(
                    value_per_user(revenue_minor, found.active, digits), 2
                ),
            )
        )
    return shares
