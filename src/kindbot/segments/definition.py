"""A segment's definition: named conditions on contacts, all of which must hold.

The JSON form (what the API, the CLI's files and the ``segments`` table hold)::

    {"all_of": [
        {"tags": {"all": ["vip"], "any": ["tea", "coffee"], "none": ["blocked"]}},
        {"channel": ["web", "oa"]},
        {"consent": "care"},
        {"last_inbound": {"within_days": 30}},          # or {"not_within_days": 30}
        {"first_seen": {"from": "2026-01-01", "to": "2026-02-01"}},
        {"orders": {"min": 2, "max": 10}},
        {"revenue": {"min": "100.00", "max": "5000"}},
        {"last_order": {"within_days": 30}},            # or {"before_days": 90}
        {"rfm": {"r": [4, 5], "f": [3, 5], "m": [2, 5]}},
        {"source": ["message"]},
        {"attribute": {"name": "city", "op": "eq", "value": "杭州"}},
        {"any_of": [{"tags": {"any": ["vip"]}}, {"orders": {"min": 5}}]}
    ]}

Meanings (``now`` is when the segment is evaluated; days are 24-hour spans):

* ``tags`` — has every ``all`` tag, at least one ``any`` tag, no ``none`` tag.
* ``channel`` — the contact's channel (its id within the tenant) is listed.
* ``consent`` — holds a currently granted consent to the topic and has not
  opted out by message.
* ``last_inbound.within_days: N`` — an inbound message at or after ``now − N
  days``; ``not_within_days: N`` — none since then (never wrote included).
* ``first_seen`` — the earliest activity (an inbound message or a business
  event, as in :mod:`kindbot.analytics.metrics`) is in ``[from, to)`` of local
  dates in the tenant's time zone; either end may be left out.
* ``orders`` — the number of ``order`` events ever, ``min``/``max`` inclusive.
* ``revenue`` — order amounts minus refund amounts ever, in the tenant's
  currency; decimal strings (exact, never float), bounds inclusive.
* ``last_order.within_days: N`` — the latest order is at or after ``now − N
  days``; ``before_days: N`` — it is before that (contacts that never ordered
  match neither).
* ``rfm`` — recency/frequency/monetary scores in inclusive ranges; the fixed
  thresholds are in :mod:`kindbot.segments.rfm` (contacts that never ordered
  have no scores and match no ``rfm`` condition).
* ``source`` — how kindbot first learned of the contact: ``message`` or ``event``.
* ``attribute`` — a custom attribute compared with ``value`` (``eq``, ``ne``,
  ``gt``, ``gte``, ``lt``, ``lte``), or ``set``/``unset`` (no ``value``).
* ``any_of`` — at least one of its (two or more) conditions holds.

An empty ``all_of`` is every contact of the tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kindbot.core.records.segments import AttributeFilter


@dataclass(frozen=True, slots=True)
class TagsCondition:
    """Tags the contact must have all of, at least one of, and none of."""

    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelCondition:
    """The contact is on one of these channels (ids within the tenant)."""

    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConsentCondition:
    """Currently consents to ``topic``."""

    topic: str


@dataclass(frozen=True, slots=True)
class LastInboundCondition:
    """Wrote to us within the last ``days`` days (``within``), or did not."""

    days: int
    within: bool


@dataclass(frozen=True, slots=True)
class FirstSeenCondition:
    """First seen in ``[start, end)`` of the tenant's local dates (None: open)."""

    start: date | None
    end: date | None


@dataclass(frozen=True, slots=True)
class OrdersCondition:
    """Order count bounds, inclusive."""

    min: int | None
    max: int | None


@dataclass(frozen=True, slots=True)
class RevenueCondition:
    """Net revenue bounds in the tenant's currency, inclusive and exact."""

    min: Decimal | None
    max: Decimal | None


@dataclass(frozen=True, slots=True)
class LastOrderCondition:
    """The latest order is within the last ``days`` days (``within``), or before that."""

    days: int
    within: bool


ScoreRange = tuple[int, int]
"""Inclusive ``(low, high)`` of scores 1–5."""


@dataclass(frozen=True, slots=True)
class RfmCondition:
    """Recency, frequency and monetary score ranges (None: any score)."""

    r: ScoreRange | None = None
    f: ScoreRange | None = None
    m: ScoreRange | None = None


@dataclass(frozen=True, slots=True)
class SourceCondition:
    """How kindbot first learned of the contact (``message``, ``event``)."""

    sources: tuple[str, ...]


AttributeCondition = AttributeFilter
"""Needs no resolution: the definition's attribute condition is the storage filter."""


@dataclass(frozen=True, slots=True)
class AnyOfCondition:
    """At least one of ``conditions`` holds."""

    conditions: tuple[Condition, ...]


Condition = (
    TagsCondition
    | ChannelCondition
    | ConsentCondition
    | LastInboundCondition
    | FirstSeenCondition
    | OrdersCondition
    | RevenueCondition
    | LastOrderCondition
    | RfmCondition
    | SourceCondition
    | AttributeCondition
    | AnyOfCondition
)


@dataclass(frozen=True, slots=True)
class SegmentDefinition:
    """Contacts for which every condition holds."""

    conditions: tuple[Condition, ...] = ()
