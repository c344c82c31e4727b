"""A tenant's service hours: when people answer, and when the next opening starts (pure).

Written in a bundle as ``service_hours:`` (README, "Bundle fields")::

    service_hours:
      timezone: Asia/Shanghai        # optional: the tenant's time zone
      days:
        mon-fri: "09:00-18:00"
        sat: ["10:00-12:00", "14:00-17:00"]
        sun: closed

A range ending at or before its start runs past midnight (``22:00-02:00``
on Friday is Friday 22:00 to Saturday 02:00); ``00:00-24:00`` is a whole day.
Days not named are closed. :func:`parse_days` turns the ``days`` mapping into
:class:`Opening` rows (``ValueError`` with the offending key and value);
:func:`next_opening` answers "when will someone be there".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOSED = "closed"
_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class Opening:
    """One opening period: ``weekday`` (0 = Monday) from ``start`` for ``minutes`` minutes."""

    weekday: int
    start: int
    """Minutes after local midnight."""
    minutes: int
    """Length: 1 to 1440 (an overnight range runs into the next day)."""


@dataclass(frozen=True, slots=True)
class ServiceHours:
    """When a tenant's people answer: openings in ``timezone`` (an IANA zone name)."""

    timezone: str
    openings: tuple[Opening, ...]

    def to_json(self) -> str:
        """The form stored with the tenant."""
        rows = [[o.weekday, o.start, o.minutes] for o in self.openings]
        return json.dumps({"timezone": self.timezone, "openings": rows}, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> ServiceHours:
        """Read :meth:`to_json`'s form back."""
        data = json.loads(text)
        rows = tuple(Opening(int(d), int(s), int(m)) for d, s, m in data["openings"])
        return ServiceHours(str(data["timezone"]), rows)


def parse_range(text: str) -> tuple[int, int]:
    """``"HH:MM-HH:MM"`` as (start minute, length in minutes); ``ValueError`` if malformed."""
    found = _RANGE.match(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a time range like 09:00-18:00")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ValueError(f"{text!r} has an impossible time")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end == start:
        raise ValueError(f"{text!r} is empty (it starts where it ends)")
    return start, end - start if end > start else end + _DAY - start


def parse_day_key(key: str) -> tuple[int, ...]:
    """``mon`` or a range ``mon-fri`` (wrapping, e.g. ``fri-mon``) as weekday numbers."""
    parts = key.strip().lower().split("-")
    if len(parts) > 2 or any(p not in DAY_NAMES for p in parts):
        raise ValueError(f"{key!r} is not a day (mon … sun) or a range of days like mon-fri")
    first, last = DAY_NAMES.index(parts[0]), DAY_NAMES.index(parts[-1])
    return tuple((first + i) % 7 for i in range((last - first) % 7 + 1))


def parse_days(days: Mapping[str, str | Sequence[str]]) -> tuple[Opening, ...]:
    """The openings the bundle's ``days`` mapping describes; ``ValueError`` naming the key.

    Each weekday may be named once; at least one must be open.
    """
    seen: dict[int, str] = {}
    openings: list[Opening] = []
    for key, value in days.items():
        try:
            weekdays = parse_day_key(key)
            ranges = [value] if isinstance(value, str) else list(value)
            spans = [] if ranges == [CLOSED] else [parse_range(r) for r in ranges]
        except ValueError as exc:
            raise ValueError(f"days.{key}: {exc}") from None
        for weekday in weekdays:
            if weekday in seen:
                raise ValueError(f"days.{key}: {DAY_NAMES[weekday]} is also in {seen[weekday]!r}")
            seen[weekday] = key
            openings += [Opening(weekday, start, minutes) for start, minutes in spans]
    if not openings:
        raise ValueError("days: no day is open (leave service_hours out instead)")
    return tuple(sorted(openings, key=lambda o: (o.weekday, o.start)))


def next_opening(hours: ServiceHours, now: datetime) -> datetime | None:
    """When someone is next there: ``now`` itself while open, else the next opening's start.

    In the hours' zone (the result carries it); None only when nothing is
    ever open. Looks back one day, for an overnight opening still running.
    """
    zone = ZoneInfo(hours.timezone)
    local = now.astimezone(zone)
    starts: list[datetime] = []
    for offset in range(-1, 8):
        day = local.date() + timedelta(days=offset)
        for opening in hours.openings:
            if opening.weekday != day.weekday():
                continue
            start = datetime.combine(day, time(), tzinfo=zone) + timedelta(minutes=opening.start)
            start = start.astimezone(zone)
            if start <= local < start + timedelta(minutes=opening.minutes):
                return local
            if start > local:
                starts.append(start)
    return min(starts, default=None)
