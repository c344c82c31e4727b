"""RFM scores: recency, frequency and monetary value, each 1 (low) to 5 (high).

Fixed thresholds (not quintiles, so a contact's score does not move when other
contacts buy, and a segment means the same thing in every shop). Only buyers
(contacts with at least one ``order`` event) have scores; the others match no
RFM condition.

=====  ==========================  ============  =============================
score  recency: last order          frequency:    monetary: revenue (orders −
       (days before now, 24 h)      orders ever   refunds ever, tenant currency)
=====  ==========================  ============  =============================
5      ≤ 30                        ≥ 10          ≥ 5,000.00
4      > 30 and ≤ 60               5 – 9         ≥ 2,000.00 and < 5,000.00
3      > 60 and ≤ 90               3 – 4         ≥ 500.00 and < 2,000.00
2      > 90 and ≤ 180              2             ≥ 100.00 and < 500.00
1      > 180                       1             < 100.00
=====  ==========================  ============  =============================

A range ``[low, high]`` of scores therefore becomes plain bounds on the last
order's time, the order count and the revenue (:func:`recency_bounds`,
:func:`frequency_bounds`, :func:`monetary_bounds`), which SQL evaluates
without computing a score.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

SCORES = range(1, 6)

RECENCY_DAYS = {5: 30, 4: 60, 3: 90, 2: 180}
"""Score ``s`` needs the last order at most ``RECENCY_DAYS[s]`` days ago (1: older)."""

FREQUENCY_MIN = {1: 1, 2: 2, 3: 3, 4: 5, 5: 10}
"""Score ``s`` needs at least ``FREQUENCY_MIN[s]`` orders (and fewer than the next score's)."""

MONETARY_MIN = {2: Decimal(100), 3: Decimal(500), 4: Decimal(2000), 5: Decimal(5000)}
"""Score ``s`` needs revenue of at least ``MONETARY_MIN[s]`` (1: less than score 2's)."""


def recency_bounds(low: int, high: int, now: datetime) -> tuple[datetime | None, datetime | None]:
    """``[from, before)`` of the last order's time for recency scores ``low..high``."""
    start = now - timedelta(days=RECENCY_DAYS[low]) if low > 1 else None
    end = now - timedelta(days=RECENCY_DAYS[high + 1]) if high < 5 else None
    return start, end


def frequency_bounds(low: int, high: int) -> tuple[int, int | None]:
    """Inclusive order-count bounds for frequency scores ``low..high`` (None: no upper)."""
    return FREQUENCY_MIN[low], (FREQUENCY_MIN[high + 1] - 1 if high < 5 else None)


def monetary_bounds(low: int, high: int) -> tuple[Decimal | None, Decimal | None]:
    """``[min, below)`` of revenue for monetary scores ``low..high`` (None: unbounded)."""
    return (
        MONETARY_MIN[low] if low > 1 else None,
        MONETARY_MIN[high + 1] if high < 5 else None,
    )


def recency_score(last_order: datetime, now: datetime) -> int:
    """The recency score of a last order at ``last_order``."""
    for score in (5, 4, 3, 2):
        if last_order >= now - timedelta(days=RECENCY_DAYS[score]):
            return score
    return 1


def frequency_score(orders: int) -> int:
    """The frequency score of ``orders`` (at least 1) orders."""
    return max(s for s in SCORES if orders >= FREQUENCY_MIN[s])


def monetary_score(revenue: Decimal) -> int:
    """The monetary score of ``revenue``."""
    return max((s for s in (2, 3, 4, 5) if revenue >= MONETARY_MIN[s]), default=1)
