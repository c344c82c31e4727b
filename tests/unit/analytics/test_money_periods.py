"""Exact money formatting and rounding; periods in the tenant's time zone; ISO weeks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from kindbot.analytics.money import format_fraction, format_minor, round_rate
from kindbot.analytics.periods import Period, check_period, cohort_mondays, iso_week, parse_day
from kindbot.core.errors import BadRequestError


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [(1999, "CNY", "19.99"), (-3000, "CNY", "-30.00"), (0, "CNY", "0.00"), (1500, "JPY", "1500"),
     (5, "CNY", "0.05"), (1234, "KWD", "1.234")],
)  # fmt: skip
def test_minor_units_format_with_the_currency_places(minor: int, currency: str, text: str) -> None:
    assert format_minor(minor, currency) == text


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Fraction(24999, 600), 2, "41.67"),  # 41.665 exactly: half away from zero
        (Fraction(-24999, 600), 2, "-41.67"),
        (Fraction(1, 3), 2, "0.33"),
        (Fraction(0), 2, "0.00"),
        (Fraction(-1, 1000), 2, "0.00"),  # no "-0.00"
        (Fraction(5, 2), 0, "3"),
    ],
)
def test_fractions_round_half_away_from_zero(value: Fraction, places: int, text: str) -> None:
    assert format_fraction(value, places) == text


def test_rates_are_numbers_with_four_places() -> None:
    assert round_rate(Fraction(1, 3)) == 0.3333
    assert round_rate(Fraction(2, 3)) == 0.6667
    assert round_rate(Fraction(41665, 100000)) == 0.4167
    assert round_rate(Fraction(6)) == 6.0


def test_a_period_is_local_midnight_to_local_midnight() -> None:
    period = Period(date(2026, 12, 28), date(2027, 1, 11))

    start, end = period.instants(ZoneInfo("Asia/Shanghai"))

    assert start == datetime(2026, 12, 27, 16, 0, tzinfo=UTC)
    assert end == datetime(2027, 1, 10, 16, 0, tzinfo=UTC)
    assert period.days == 14
    assert period.previous() == Period(date(2026, 12, 14), date(2026, 12, 28))


def test_a_period_follows_daylight_saving_in_zones_that_have_it() -> None:
    start, end = Period(date(2026, 3, 8), date(2026, 3, 9)).instants(ZoneInfo("America/New_York"))

    assert start == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # EST
    assert end == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # EDT: a 23-hour day


@pytest.mark.parametrize(
    ("start", "end", "weeks"),
    [
        (date(2026, 12, 28), date(2027, 1, 11), ["2026-W53", "2027-W01"]),
        (date(2026, 12, 27), date(2027, 1, 5), ["2026-W53", "2027-W01"]),  # Sunday → Monday
        (date(2026, 12, 29), date(2027, 1, 4), []),  # the Monday is ``to``: excluded
        (date(2026, 12, 29), date(2027, 1, 5), ["2027-W01"]),
        (date(2027, 12, 27), date(2028, 1, 10), ["2027-W52", "2028-W01"]),
        (date(2020, 12, 28), date(2021, 1, 4), ["2020-W53"]),
    ],
)
def test_cohort_weeks_are_the_iso_weeks_starting_in_the_period(
    start: date, end: date, weeks: list[str]
) -> None:
    assert [iso_week(m) for m in cohort_mondays(Period(start, end))] == weeks


@pytest.mark.parametrize(
    ("start", "end"),
    [("2027-01-11", "2027-01-11"), ("2027-01-12", "2027-01-11"), ("2020-01-01", "2022-01-03")],
)
def test_empty_backwards_or_too_long_periods_are_refused(start: str, end: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        check_period(parse_day(start, "from"), parse_day(end, "to"))

    assert caught.value.code == "invalid_period"


@pytest.mark.parametrize("text", ["2027-1-11", "20270111", "2027-02-30", "", "2027-01-11T00:00"])
def test_days_must_be_yyyy_mm_dd(text: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        parse_day(text, "from")

    assert caught.value.code == "invalid_period"
    assert caught.value.message.startswith("from:")
