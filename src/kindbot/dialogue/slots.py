"""Validating one answer to a flow's question (pure).

Each validator takes the customer's whole message and returns the value in a
canonical form, or None when the message does not hold one. Validators never
raise on any ``str``.

- ``phone``: a Chinese mainland mobile number, 11 digits starting ``1[3-9]``;
  spaces, dashes, dots, brackets and a ``+86``/``0086`` prefix are tolerated,
  full-width digits too. Canonical form: the 11 digits.
- ``date``: ``2026-12-01`` (also ``/`` and ``.``), ``2026年12月1日``,
  ``12月1日``/``12月1号``, ``12/1``, ``12-1``, and 今天/明天/后天 (today,
  tomorrow, day after tomorrow) relative to the tenant's ``today``. A date
  without a year is this year's, or next year's when it has already passed.
  Canonical form: ISO ``YYYY-MM-DD``.
- ``order_number``: by default the first run of 6–32 letters and digits
  holding at least 4 digits; a bundle's ``pattern`` (a regular expression,
  searched) replaces that rule. Canonical form: the matched text.
- ``choice``: one of the options, exactly (case-insensitive, full-width
  tolerated), or its number 1..n. Canonical form: the option as declared.
- ``text``: any non-blank message up to :data:`MAX_TEXT` characters, stripped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta
from enum import StrEnum

__all__ = ["MAX_TEXT", "SlotType", "valid_value"]

MAX_TEXT = 500
"""The longest free-text answer a ``text`` slot keeps."""


MAX_PATTERN_INPUT = 200
"""Only this many characters of an answer are searched (bounds a tenant pattern's work)."""


class SlotType(StrEnum):
    """What a flow's question asks for."""

    PHONE = "phone"
    DATE = "date"
    ORDER_NUMBER = "order_number"
    CHOICE = "choice"
    TEXT = "text"


_PHONE_SEPARATORS = re.compile(r"[\s\-.()（）]")
_PHONE = re.compile(r"(?<!\d)(?:\+?86|0086)?(1[3-9]\d{9})(?!\d)")
_ORDER_RUN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{6,32}(?![A-Za-z0-9])")
_FULL_DATE = re.compile(
    r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?(?!\d)"
)
_MONTH_DAY = re.compile(r"(?<!\d)(\d{1,2})\s*(?:月|/|-)\s*(\d{1,2})\s*[日号]?(?![\d/\-])")
_RELATIVE_DAYS = (
    (("大后天",), 3),
    (("后天", "day after tomorrow"), 2),
    (("明天", "明日", "tomorrow"), 1),
    (("今天", "今日", "today"), 0),
)


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def valid_phone(text: str) -> str | None:
    """The 11-digit mainland mobile number in ``text``, or None."""
    found = _PHONE.search(_PHONE_SEPARATORS.sub("", _folded(text)))
    return found.group(1) if found else None


def valid_date(text: str, today: date) -> str | None:
    """The date ``text`` names (ISO), relative to ``today`` for 明天 and dates without a year."""
    folded = _folded(text).casefold()
    full = _FULL_DATE.search(folded)
    if full:
        return _iso(int(full.group(1)), int(full.group(2)), int(full.group(3)))
    for words, days in _RELATIVE_DAYS:
        if any(word in folded for word in words):
            return (today + timedelta(days=days)).isoformat()
    month_day = _MONTH_DAY.search(folded)
    if month_day is None:
        return None
    month, day = int(month_day.group(1)), int(month_day.group(2))
    this_year = _iso(today.year, month, day)
    if this_year is None or this_year >= today.isoformat():
        return this_year
    return _iso(today.year + 1, month, day)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def valid_order_number(text: str, pattern: str | None = None) -> str | None:
    """The order number in ``text``: ``pattern``'s match, or the default rule's."""
    folded = _folded(text)[:MAX_PATTERN_INPUT]
    if pattern is not None:
        found = re.search(pattern, folded)
        return found.group(0) if found and found.group(0) else None
    for run in _ORDER_RUN.finditer(folded):
        if sum(ch.isdigit() for ch in run.group(0)) >= 4:
            return run.group(0)
    return None


def valid_choice(text: str, choices: Sequence[str]) -> str | None:
    """The option ``text`` picks (by name or by its number 1..n), or None."""
    folded = _folded(text).casefold().rstrip("。.!！")
    for option in choices:
        if _folded(option).casefold() == folded:
            return option
    if folded.isdecimal() and len(folded) <= 3 and 1 <= int(folded) <= len(choices):
        return choices[int(folded) - 1]
    return None


def valid_text(text: str) -> str | None:
    """``text`` stripped, when it is neither blank nor longer than :data:`MAX_TEXT`."""
    stripped = text.strip()
    return stripped if stripped and len(stripped) <= MAX_TEXT else None


def valid_value(
    kind: SlotType,
    text: str,
    *,
    today: date,
    choices: Sequence[str] = (),
    pattern: str | None = None,
) -> str | None:
    """The canonical value of ``text`` for a slot of ``kind``, or None when it holds none."""
    if kind is SlotType.PHONE:
        return valid_phone(text)
    if kind is SlotType.DATE:
        return valid_date(text, today)
    if kind is SlotType.ORDER_NUMBER:
        return valid_order_number(text, pattern)
    if kind is SlotType.CHOICE:
        return valid_choice(text, choices)
    return valid_text(text)
