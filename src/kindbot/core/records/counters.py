"""The guard's counters: a unit reserved only while the count is below a limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CounterLimit:
    """Reserve one unit of ``key`` only while its count is below ``limit``."""

    key: str
    limit: int
    expires_at: datetime
