"""RFM thresholds and the resolver (pure): relative terms become absolute filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kindbot.core.records.segments import (
    AnyFilter,
    ConsentFilter,
    FirstSeenFilter,
    InboundFilter,
    OrderFilter,
    TagFilter,
)
from kindbot.segments.codec import parse_definition
from kindbot.segments.resolve import resolve
from kindbot.segments.rfm import (
    frequency_bounds,
    frequency_score,
    monetary_bounds,
    monetary_score,
    recency_bounds,
    recency_score,
)

NOW = datetime(2027, 2, 15, 4, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def resolved(*conditions: object) -> tuple[object, ...]:
    definition = parse_definition({"all_of": list(conditions)})
    return resolve(definition, tenant_id="t", now=NOW, zone=SHANGHAI, currency="CNY").filters


@pytest.mark.parametrize(
    ("days_ago", "score"),
    [(0, 5), (30, 5), (30.001, 4), (60, 4), (61, 3), (90, 3), (91, 2), (180, 2), (181, 1)],
)
def test_recency_scores(days_ago: float, score: int) -> None:
    assert recency_score(NOW - timedelta(days=days_ago), NOW) == score


@pytest.mark.parametrize(
    ("orders", "score"), [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (9, 4), (10, 5), (99, 5)]
)
def test_frequency_scores(orders: int, score: int) -> None:
    assert frequency_score(orders) == score


@pytest.mark.parametrize(
    ("revenue", "score"),
    [("-5", 1), ("0", 1), ("99.99", 1), ("100", 2), ("499.99", 2), ("500", 3), ("1999.99", 3),
     ("2000", 4), ("4999.99", 4), ("5000", 5)],
)  # fmt: skip
def test_monetary_scores(revenue: str, score: int) -> None:
    assert monetary_score(Decimal(revenue)) == score


def test_score_ranges_are_the_bounds_the_scores_use() -> None:
    """Every score in a range passes its bounds, every score outside fails them."""
    for low in range(1, 6):
        for high in range(low, 6):
            start, end = recency_bounds(low, high, NOW)
            for days in (0, 15, 30, 45, 60, 75, 90, 135, 180, 181, 400):
                at = NOW - timedelta(days=days)
                inside = (start is None or at >= start) and (end is None or at < end)
                assert inside == (low <= recency_score(at, NOW) <= high), (low, high, days)
            least, most = frequency_bounds(low, high)
            for orders in range(1, 15):
                inside = orders >= least and (most is None or orders <= most)
                assert inside == (low <= frequency_score(orders) <= high), (low, high, orders)
            floor, below = monetary_bounds(low, high)
            for text in (
                "0",
                "99.99",
                "100",
                "499.99",
                "500",
                "1999.99",
                "2000",
                "4999.99",
                "5000",
            ):
                value = Decimal(text)
                inside = (floor is None or value >= floor) and (below is None or value < below)
                assert inside == (low <= monetary_score(value) <= high), (low, high, text)


def test_relative_terms_become_instants_and_minor_units() -> None:
    filters = resolved(
        {"last_inbound": {"within_days": 30}},
        {"first_seen": {"from": "2027-01-01", "to": "2027-02-01"}},
        {"revenue": {"min": "100", "max": "250.50"}},
        {"last_order": {"before_days": 90}},
        {"rfm": {"r": [4, 5], "f": [3, 4], "m": [2, 3]}},  # f 3-4: 3 to 9 orders
        {"any_of": [{"consent": "care"}, {"tags": {"any": ["vip"]}}]},
    )

    assert filters == (
        InboundFilter(NOW - timedelta(days=30), present=True),
        # local midnights in Shanghai (UTC+8) are 16:00 UTC the day before
        FirstSeenFilter(
            datetime(2026, 12, 31, 16, tzinfo=UTC), datetime(2027, 1, 31, 16, tzinfo=UTC)
        ),
        OrderFilter("CNY", min_revenue=10000, max_revenue=25050),
        OrderFilter("CNY", last_order_before=NOW - timedelta(days=90)),
        OrderFilter(
            "CNY",
            min_orders=3,
            max_orders=9,
            min_revenue=10000,
            max_revenue=199999,
            last_order_from=NOW - timedelta(days=60),
            last_order_before=None,
        ),
        AnyFilter((ConsentFilter("care"), TagFilter((), ("vip",), ()))),
    )


def test_any_rfm_condition_needs_an_order() -> None:
    (only_recency,) = resolved({"rfm": {"r": [1, 5]}})
    assert only_recency == OrderFilter("CNY", min_orders=1)
    assert isinstance(only_recency, OrderFilter)
    assert not only_recency.holds_without_orders()


@pytest.mark.parametrize(
    ("order_filter", "holds"),
    [
        (OrderFilter("CNY", max_orders=1), True),
        (OrderFilter("CNY", min_orders=0, max_revenue=0), True),
        (OrderFilter("CNY", min_orders=1), False),
        (OrderFilter("CNY", min_revenue=1), False),
        (OrderFilter("CNY", max_revenue=-1), False),
        (OrderFilter("CNY", last_order_before=NOW), False),
    ],
)
def test_which_bounds_a_contact_without_orders_passes(
    order_filter: OrderFilter, holds: bool
) -> None:
    assert order_filter.holds_without_orders() is holds
