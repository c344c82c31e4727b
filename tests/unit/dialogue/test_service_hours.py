"""Table tests of service hours: parsing and the next opening (issue 13, defect 8)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from kindbot.dialogue.handoff import SOON_EN, SOON_ZH, nobody_available
from kindbot.dialogue.service_hours import (
    Opening,
    ServiceHours,
    next_opening,
    parse_day_key,
    parse_days,
    parse_range,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = ServiceHours(
    "Asia/Shanghai", parse_days({"mon-fri": "09:00-18:00", "sat": "10:00-16:00", "sun": "closed"})
)
NIGHTS = ServiceHours("Asia/Tokyo", parse_days({"fri": "22:00-02:00", "sat-sun": "closed"}))


def local(zone: str, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(zone))


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("09:00-18:00", (540, 540)),
        ("22:00-02:00", (1320, 240)),  # overnight
        ("00:00-24:00", (0, 1440)),  # the whole day
        (" 10:30-10:45 ", (630, 15)),
    ],
)
def test_parse_range(text: str, parsed: tuple[int, int]) -> None:
    assert parse_range(text) == parsed


@pytest.mark.parametrize("text", ["9-18", "09:00-09:00", "25:00-26:00", "09:60-10:00", "24:30-1"])
def test_parse_range_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"range|impossible|empty"):
        parse_range(text)


@pytest.mark.parametrize(
    ("key", "days"),
    [("mon", (0,)), ("mon-fri", (0, 1, 2, 3, 4)), ("fri-mon", (4, 5, 6, 0)), ("SUN", (6,))],
)
def test_day_keys(key: str, days: tuple[int, ...]) -> None:
    assert parse_day_key(key) == days


@pytest.mark.parametrize(
    ("days", "problem"),
    [
        ({"mon-fri": "09:00-18:00", "fri": "10:00-12:00"}, "days.fri: fri is also in 'mon-fri'"),
        ({"funday": "09:00-18:00"}, "days.funday: 'funday' is not a day"),
        ({"mon": "9am-5pm"}, "days.mon: '9am-5pm' is not a time range"),
        ({"mon": "closed"}, "no day is open"),
    ],
)
def test_parse_days_names_the_offending_key(days: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match="days") as caught:
        parse_days(days)
    assert problem in str(caught.value)


def test_several_ranges_a_day() -> None:
    assert parse_days({"sat": ["14:00-17:00", "10:00-12:00"]}) == (
        Opening(5, 600, 120),
        Opening(5, 840, 180),
    )


@pytest.mark.parametrize(
    ("hours", "now", "expected"),
    [
        # 2026-12-07 is a Monday.
        (WEEKDAYS, local("Asia/Shanghai", 12, 7, 10), local("Asia/Shanghai", 12, 7, 10)),  # open
        (WEEKDAYS, local("Asia/Shanghai", 12, 7, 8, 59), local("Asia/Shanghai", 12, 7, 9)),
        (WEEKDAYS, local("Asia/Shanghai", 12, 7, 18), local("Asia/Shanghai", 12, 8, 9)),  # end
        (WEEKDAYS, local("Asia/Shanghai", 12, 11, 19), local("Asia/Shanghai", 12, 12, 10)),  # Fri
        (WEEKDAYS, local("Asia/Shanghai", 12, 12, 16), local("Asia/Shanghai", 12, 14, 9)),  # Sat
        (WEEKDAYS, local("Asia/Shanghai", 12, 13, 12), local("Asia/Shanghai", 12, 14, 9)),  # Sun
        # The same instant given in UTC: Sunday 23:30 UTC is Monday 07:30 in Shanghai.
        (WEEKDAYS, datetime(2026, 12, 13, 23, 30, tzinfo=UTC), local("Asia/Shanghai", 12, 14, 9)),
        # Overnight: Friday 22:00 to Saturday 02:00, Tokyo.
        (NIGHTS, local("Asia/Tokyo", 12, 12, 1, 30), local("Asia/Tokyo", 12, 12, 1, 30)),  # open
        (NIGHTS, local("Asia/Tokyo", 12, 12, 2), local("Asia/Tokyo", 12, 18, 22)),
        (NIGHTS, local("Asia/Tokyo", 12, 11, 21), local("Asia/Tokyo", 12, 11, 22)),
        (NIGHTS, local("Asia/Tokyo", 12, 11, 23), local("Asia/Tokyo", 12, 11, 23)),  # open
    ],
)
def test_next_opening(hours: ServiceHours, now: datetime, expected: datetime) -> None:
    found = next_opening(hours, now)
    assert found == expected
    assert found is not None
    assert str(found.tzinfo) == hours.timezone


def test_nothing_open_has_no_next_opening() -> None:
    assert next_opening(ServiceHours("UTC", ()), datetime(2026, 12, 7, tzinfo=UTC)) is None


def test_hours_survive_storage() -> None:
    assert ServiceHours.from_json(WEEKDAYS.to_json()) == WEEKDAYS


def test_nobody_available_says_when_in_the_customer_s_language() -> None:
    now = local("Asia/Shanghai", 12, 7, 20)
    opening = next_opening(WEEKDAYS, now)
    zh = nobody_available("人工", prefer_chinese=True, opening=opening, now=now)
    assert "现在没有人工客服在线" in zh
    assert "12月8日（周二）09:00（Asia/Shanghai）" in zh
    assert "继续回答" in zh
    en = nobody_available("human", prefer_chinese=True, opening=opening, now=now)
    assert "nobody from our team is available right now" in en
    assert "Tue 8 Dec at 09:00 (Asia/Shanghai)" in en
    assert "keep answering" in en


def test_nobody_available_names_no_time_when_unknown_or_already_open() -> None:
    now = local("Asia/Shanghai", 12, 7, 10)
    assert SOON_ZH in nobody_available("人工", prefer_chinese=True, opening=None, now=now)
    assert SOON_EN in nobody_available("human", prefer_chinese=True, opening=now, now=now)
