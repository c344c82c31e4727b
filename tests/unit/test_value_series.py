"""Cutting a period into the buckets of the value series (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from kindbot.analytics.periods import Period
from kindbot.analytics.series import bucket_starts, granularity_of, value_series
from kindbot.core.records.analytics import BucketFacts


def days(*isos: str) -> list[date]:
    return [date.fromisoformat(d) for d in isos]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-12-01", "2026-12-04", days("2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04")),
        # 32 days: weeks; the first starts on the period's first day (a Tuesday).
        (
            "2026-12-01",
            "2027-01-02",
            days(
                "2026-12-01",
                "2026-12-07",
                "2026-12-14",
                "2026-12-21",
                "2026-12-28",
                "2027-01-02",
            ),
        ),
        # Starting on a Monday: the next bucket starts a week later, not the same day.
        (
            "2026-11-30",
            "2027-01-04",
            days(
                "2026-11-30",
                "2026-12-07",
                "2026-12-14",
                "2026-12-21",
                "2026-12-28",
                "2027-01-04",
            ),
        ),
    ],
)
def test_bucket_starts(start: str, end: str, expected: list[date]) -> None:
    period = Period(date.fromisoformat(start), date.fromisoformat(end))
    assert bucket_starts(period) == expected


def test_up_to_31_days_is_daily_beyond_is_weekly() -> None:
    assert granularity_of(Period(date(2026, 12, 1), date(2027, 1, 1))) == "day"
    assert granularity_of(Period(date(2026, 12, 1), date(2027, 1, 2))) == "week"


def test_missing_buckets_are_zero_and_money_is_exact() -> None:
    period = Period(date(2026, 12, 1), date(2026, 12, 4))
    facts = [BucketFacts(1, 3, 2, 1000, 1), BucketFacts(2, 1, 0, 0, 500)]

    series = value_series(period, bucket_starts(period), facts, 2)

    assert [(p.active, p.orders, p.revenue, p.value_per_user) for p in series.points] == [
        (0, 0, "0.00", "0.00"),
        # 9.99 / 3 = 3.33; a day with only a refund has negative revenue.
        (3, 2, "9.99", "3.33"),
        (1, 0, "-5.00", "-5.00"),
    ]
