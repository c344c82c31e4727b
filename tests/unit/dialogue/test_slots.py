"""Slot validators: each takes the whole message and returns a canonical value or None."""

from __future__ import annotations

from datetime import date

import pytest

from kindbot.dialogue.slots import (
    MAX_TEXT,
    SlotType,
    valid_choice,
    valid_date,
    valid_order_number,
    valid_phone,
    valid_text,
    valid_value,
)

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086-19912345678", "19912345678"),
        ("８６１３８００１３８０００", "13800138000"),
        ("我的手机是 (159) 1234-5678，谢谢", "15912345678"),
        ("12800138000", None),  # 12x is not a mobile prefix
        ("1380013800", None),  # 10 digits
        ("138001380001", None),  # 12 digits
        ("电话打不通", None),
        ("", None),
    ],
)
def test_phone(text: str, expected: str | None) -> None:
    assert valid_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", "2026-12-01"),
        ("2027/1/5", "2027-01-05"),
        ("2026年12月1日", "2026-12-01"),
        ("12月1日", "2026-12-01"),
        ("12月1号下午", "2026-12-01"),
        ("12/1", "2026-12-01"),
        ("11/25", "2026-11-25"),  # today is still this year
        ("3月2日", "2027-03-02"),  # already passed this year: next year's
        ("今天", "2026-11-25"),
        ("明天吧", "2026-11-26"),
        ("Tomorrow", "2026-11-26"),
        ("后天", "2026-11-27"),
        ("大后天", "2026-11-28"),
        ("2026-02-30", None),
        ("13月1日", None),
        ("2月30日", None),
        ("下周吧", None),
        ("", None),
    ],
)
def test_date(text: str, expected: str | None) -> None:
    assert valid_date(text, TODAY) == expected


def test_date_across_the_new_year() -> None:
    assert valid_date("明天", date(2026, 12, 31)) == "2027-01-01"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A12345678", "A12345678"),
        ("订单号是 SO20261125001 谢谢", "SO20261125001"),
        ("778899", "778899"),
        ("ABCDEF12", None),  # fewer than 4 digits
        ("12345", None),  # too short
        ("x" * 10 + "1234" + "y" * 30, None),  # too long
        ("我不知道", None),
    ],
)
def test_order_number(text: str, expected: str | None) -> None:
    assert valid_order_number(text) == expected


def test_order_number_pattern_overrides_the_default() -> None:
    assert valid_order_number("单号 TS-2026-0042", r"TS-\d{4}-\d{4}") == "TS-2026-0042"
    assert valid_order_number("A12345678", r"TS-\d{4}-\d{4}") is None
    assert valid_order_number("x" * 300 + "TS-2026-0042", r"TS-\d{4}-\d{4}") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("上午", "上午"),
        (" 下午。", "下午"),
        ("Morning", "morning"),
        ("ＭＯＲＮＩＮＧ", "morning"),
        ("1", "上午"),
        ("３", "morning"),
        ("4", None),
        ("0", None),
        ("晚上", None),
        ("上午或下午", None),
    ],
)
def test_choice(text: str, expected: str | None) -> None:
    assert valid_choice(text, ("上午", "下午", "morning")) == expected


def test_text_is_stripped_and_bounded() -> None:
    assert valid_text("  送到前台  ") == "送到前台"
    assert valid_text("   ") is None
    assert valid_text("x" * (MAX_TEXT + 1)) is None


def test_valid_value_dispatches_on_the_type() -> None:
    assert valid_value(SlotType.PHONE, "13800138000", today=TODAY) == "13800138000"
    assert valid_value(SlotType.DATE, "明天", today=TODAY) == "2026-11-26"
    assert valid_value(SlotType.CHOICE, "2", today=TODAY, choices=("a", "b")) == "b"
    assert valid_value(SlotType.ORDER_NUMBER, "A1234567", today=TODAY) == "A1234567"
    assert valid_value(SlotType.TEXT, "hi", today=TODAY) == "hi"


@pytest.mark.parametrize("kind", list(SlotType))
@pytest.mark.parametrize("text", ["", "\x00", "🙂" * 50, "(" * 1000, "1" * 5000, "\u200b"])
def test_validators_never_raise(kind: SlotType, text: str) -> None:
    valid_value(kind, text, today=TODAY, choices=("x",), pattern=None)
