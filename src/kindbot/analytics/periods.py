"""Periods of local dates in a tenant's time zone, and their UTC instants (pure).

A period is ``[start, end)`` of local calendar dates: it begins at local
midnight of ``start`` and ends at local midnight of ``end`` in the tenant's
IANA time zone (``Asia/Shanghai``), so an order at 23:30 local on the last day
is inside even though its UTC date is the next one's or the previous one's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kindbot.core.errors import BadRequestError

MAX_DAYS = 731
"""Longest period (two years and a day): bounds the weekly cohorts of one document."""


@dataclass(frozen=True, slots=True)
class Period:
    """Local dates ``[start, end)`` (``end`` not included); at least one day."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """How many local days the period has."""
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The period of equal length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start)

    def instants(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as UTC instants ``[start, end)``."""
        return local_midnight(self.start, zone), local_midnight(self.end, zone)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def tenant_zone(name: str) -> ZoneInfo:
    """The tenant's time zone (``tenants.timezone``, an IANA name)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequestError(f"unknown time zone {name!r}", code="invalid_timezone") from None


def parse_day(value: str, field: str) -> date:
    """A ``YYYY-MM-DD`` date, or 400 ``invalid_period`` naming ``field``."""
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequestError(
            f"{field}: not a date (YYYY-MM-DD): {value[:20]!r}", code="invalid_period"
        ) from None


def check_period(start: date, end: date) -> Period:
    """``[start, end)`` when ``start < end`` and it spans at most :data:`MAX_DAYS` days."""
    if end <= start:
        raise BadRequestError(
            "to: must be after from (the period is [from, to))", code="invalid_period"
        )
    if (end - start).days > MAX_DAYS:
        raise BadRequestError(f"to: a period spans at most {MAX_DAYS} days", code="invalid_period")
    return Period(start, end)


def cohort_mondays(period: Period) -> list[date]:
    """The Mondays (ISO week starts) inside the period: the weeks whose cohorts start in it."""
    first = period.start + timedelta(days=(7 - period.start.weekday()) % 7)
    return [first + timedelta(weeks=k) for k in range(max(0, (period.end - first).days + 6) // 7)]


def iso_week(monday: date) -> str:
    """``YYYY-Www`` of the ISO week starting on ``monday`` (``2026-W53``, ``2027-W01``)."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"
