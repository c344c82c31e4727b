"""Daily call counters. WeChat quotas reset at midnight Beijing time (UTC+8)."""

from __future__ import annotations

BEIJING_UTC_OFFSET = 8 * 3600
DAY = 86_400


def beijing_day(now: float) -> int:
    """The number of the Beijing calendar day that contains unix time ``now``."""
    return int((now + BEIJING_UTC_OFFSET) // DAY)


class DailyCounter:
    """Counts events per key for the current Beijing day only."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}

    def get(self, key: str, now: float) -> int:
        """How many events ``key`` had on the day containing ``now``."""
        day, count = self._counts.get(key, (beijing_day(now), 0))
        return count if day == beijing_day(now) else 0

    def add(self, key: str, now: float) -> None:
        """Count one event for ``key`` at ``now``."""
        self._counts[key] = (beijing_day(now), self.get(key, now) + 1)
