"""The metric definitions as pure functions, table-tested with hand-computed figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from kindbot.analytics.metrics import (
    KEYS,
    MetricsFacts,
    conversion,
    metrics_document,
    repurchase,
    retention,
)
from kindbot.analytics.periods import Period
from kindbot.core.records.analytics import (
    CohortWeekCount,
    ConversationFacts,
    FirstBuyer,
    MoneyTotals,
    NewContact,
)

T = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
NO_TALK = ConversationFacts(0, 0, 0, 0, 0, 0, 0)


def new(first_seen: datetime, first_order: datetime | None) -> NewContact:
    return NewContact("c", first_seen, first_order)


@pytest.mark.parametrize(
    ("contacts", "converted"),
    [
        ([], 0),
        ([new(T, None)], 0),
        ([new(T, T)], 1),  # the first order is the first activity: at first seen counts
        ([new(T, T + 29 * DAY)], 1),
        ([new(T, T + 30 * DAY - timedelta(microseconds=1))], 1),
        ([new(T, T + 30 * DAY)], 0),  # first seen + window is excluded
        ([new(T, T + 45 * DAY)], 0),
        ([new(T, T + DAY), new(T, None), new(T, T + 31 * DAY)], 1),
    ],
)
def test_conversion_counts_first_orders_inside_the_window(
    contacts: list[NewContact], converted: int
) -> None:
    result = conversion(contacts, 30)

    assert (result.days, result.cohort, result.converted) == (30, len(contacts), converted)


@pytest.mark.parametrize(
    ("next_order", "repeat"),
    [
        (None, 0),
        (T + timedelta(seconds=1), 1),
        (T + 89 * DAY, 1),
        (T + 90 * DAY, 0),  # first order + window is excluded
        (T + 200 * DAY, 0),
    ],
)
def test_repurchase_counts_another_order_inside_the_window(
    next_order: datetime | None, repeat: int
) -> None:
    result = repurchase([FirstBuyer("c", T, next_order)], 90)

    assert (result.buyers, result.repeat) == (1, repeat)


def test_retention_reads_the_counts_per_cohort_and_week() -> None:
    mondays = [date(2026, 12, 21), date(2026, 12, 28), date(2027, 1, 4)]
    counts = [
        CohortWeekCount(0, 0, 4),
        CohortWeekCount(0, 1, 1),
        CohortWeekCount(0, 2, 2),
        CohortWeekCount(2, 2, 5),
    ]

    rows = retention(mondays, counts)

    assert [(r.cohort_week, r.size, r.retained) for r in rows] == [
        ("2026-W52", 4, (4, 1, 2)),
        ("2026-W53", 0, (0, 0)),
        ("2027-W01", 5, (5,)),
    ]


def facts(**changes: object) -> MetricsFacts:
    base = MetricsFacts(
        period=Period(date(2027, 1, 4), date(2027, 1, 11)),
        currency="CNY",
        currency_digits=2,
        active=0,
        new_contacts=(),
        money=MoneyTotals(0, 0, 0),
        buyers=(),
        previous_active=0,
        previous_money=MoneyTotals(0, 0, 0),
        mondays=(date(2027, 1, 4),),
        cohorts=(),
        conversations=NO_TALK,
    )
    values = {name: getattr(base, name) for name in base.__dataclass_fields__}
    return MetricsFacts(**(values | changes))  # type: ignore[arg-type]


def test_the_document_has_exactly_the_documented_keys() -> None:
    document = metrics_document(facts())

    assert tuple(document) == KEYS
    assert set(document["users"]) == {"active", "new"}
    assert set(document["conversion"]) == {"days", "cohort", "converted", "rate"}
    assert set(document["repurchase"]) == {"days", "buyers", "repeat", "rate"}
    assert set(document["previous"]) == {"users_active", "revenue", "value_per_user"}
    assert set(document["value_decomposition"]) == {
        "users_ratio",
        "value_per_user_ratio",
        "revenue_ratio",
    }


def test_an_empty_period_has_zeros_and_nulls_without_dividing_by_zero() -> None:
    document = metrics_document(facts())

    assert document["users"] == {"active": 0, "new": 0}
    assert (document["orders"], document["revenue"], document["value_per_user"]) == (
        0,
        "0.00",
        "0.00",
    )
    assert document["conversion"]["rate"] is None
    assert document["repurchase"]["rate"] is None
    assert document["value_decomposition"] == {
        "users_ratio": None,
        "value_per_user_ratio": None,
        "revenue_ratio": None,
    }
    assert document["retention"] == [
        {"cohort_week": "2027-W01", "size": 0, "retained": [0], "rates": [None]}
    ]
    assert document["conversations"]["conversations"] == 0
    assert document["conversations"]["handoff_share"] is None
    assert document["conversations"]["csat"] is None


def test_refunds_reduce_revenue_even_below_zero() -> None:
    document = metrics_document(
        facts(active=2, money=MoneyTotals(orders=1, order_minor=1000, refund_minor=5000))
    )

    assert document["orders"] == 1
    assert document["revenue"] == "-40.00"
    assert document["value_per_user"] == "-20.00"


def test_value_decomposition_multiplies_out() -> None:
    document = metrics_document(
        facts(
            active=3,
            money=MoneyTotals(2, 30000, 0),
            previous_active=2,
            previous_money=MoneyTotals(1, 10000, 0),
        )
    )

    # users 3/2 = 1.5; value per user 100.00 / 50.00 = 2; revenue 300 / 100 = 3 = 1.5 × 2.
    assert document["value_decomposition"] == {
        "users_ratio": 1.5,
        "value_per_user_ratio": 2.0,
        "revenue_ratio": 3.0,
    }
    assert document["previous"] == {
        "users_active": 2,
        "revenue": "100.00",
        "value_per_user": "50.00",
    }


def test_a_previous_period_without_revenue_gives_null_money_ratios() -> None:
    document = metrics_document(facts(active=1, money=MoneyTotals(1, 500, 0), previous_active=4))

    assert document["value_decomposition"] == {
        "users_ratio": 0.25,
        "value_per_user_ratio": None,
        "revenue_ratio": None,
    }


def test_conversation_health_shares_and_csat() -> None:
    talk = ConversationFacts(
        conversations=8,
        bot_answered=5,
        handed_off=2,
        ratings=3,
        rating_sum=13,
        consenting_at_start=40,
        opted_out=3,
        complained=2,
        fell_back=2,
        first_responses=(30.0, 95.5, 600.0, 61.0),
    )

    health = metrics_document(facts(conversations=talk, active=16))["conversations"]

    assert health == {
        "conversations": 8,
        "bot_answered_share": 0.625,
        "fallback_share": 0.25,
        "handoff_share": 0.25,
        "csat": 4.3333,
        "csat_ratings": 3,
        "opt_out_rate": 0.075,
        "first_response_median_seconds": 78.3,  # (61.0 + 95.5) / 2 = 78.25, half up
        "complaint_rate": 0.125,
    }


def test_no_active_users_gives_a_null_complaint_rate() -> None:
    quiet = ConversationFacts(0, 0, 0, 0, 0, 0, 0, complained=0)
    health = metrics_document(facts(conversations=quiet, active=0))["conversations"]
    assert health["complaint_rate"] is None
