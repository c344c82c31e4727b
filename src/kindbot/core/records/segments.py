"""Segments as storage evaluates them: filters with absolute values, and saved segments.

A segment's definition (:mod:`kindbot.segments.definition`) speaks in the
shop's terms — "last inbound within 30 days", "first seen from 2026-01-01 in
the tenant's time zone", "revenue at least 100.00", "RFM recency 4–5".
:func:`kindbot.segments.resolve.resolve` turns it, for one instant ``now``,
into the filters below: UTC instants, integer minor units, order-count
bounds. Storage compiles them to one SQL statement; nothing here is relative
or local any more, so two backends given the same filters must agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from kindbot.core.records.directory import AttributeCondition


@dataclass(frozen=True, slots=True)
class TagFilter:
    """Has every tag of ``all``, at least one of ``any`` (when given), none of ``none``."""

    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelFilter:
    """The contact's channel is one of these channel ids *within the tenant* (``web``)."""

    local_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConsentFilter:
    """Holds a currently granted consent to ``topic`` (status active, on any of its
    channels) and has not opted out by message."""

    topic: str


@dataclass(frozen=True, slots=True)
class SourceFilter:
    """How kindbot first learned of the contact (``contacts.source``) is one of these."""

    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InboundFilter:
    """``present``: has an inbound message at or after ``since``; else has none."""

    since: datetime
    present: bool


@dataclass(frozen=True, slots=True)
class FirstSeenFilter:
    """First seen (earliest activity: an inbound message or a business event of any
    type) in ``[start, end)``; an open end is unbounded."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """Bounds on a contact's all-time order facts; ``None`` = unbounded.

    *orders*: its ``order`` events; *revenue*: order amounts minus refund
    amounts in ``currency`` (integer minor units; both bounds inclusive);
    *last order*: its latest ``order`` event, in ``[last_order_from,
    last_order_before)`` (a bound on it excludes contacts that never ordered).
    """

    currency: str
    min_orders: int | None = None
    max_orders: int | None = None
    min_revenue: int | None = None
    max_revenue: int | None = None
    last_order_from: datetime | None = None
    last_order_before: datetime | None = None

    def holds_without_orders(self) -> bool:
        """Whether a contact with no order or refund at all (0 orders, revenue 0, no last
        order) passes: storage then keeps everyone but those the bounds exclude."""
        if self.last_order_from is not None or self.last_order_before is not None:
            return False
        return (
            (self.min_orders is None or self.min_orders <= 0)
            and (self.max_orders is None or self.max_orders >= 0)
            and (self.min_revenue is None or self.min_revenue <= 0)
            and (self.max_revenue is None or self.max_revenue >= 0)
        )


class AttributeOp(StrEnum):
    """How an attribute condition compares."""

    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    SET = "set"
    UNSET = "unset"


AttributeValue = str | Decimal | bool | None
"""A JSON scalar (numbers exact as :class:`~decimal.Decimal`); None for ``set``/``unset``."""


@dataclass(frozen=True, slots=True)
class AttributeFilter:
    """A custom attribute of the contact compared with ``value`` (``set``: has a value)."""

    name: str
    op: AttributeOp
    value: AttributeValue = None


@dataclass(frozen=True, slots=True)
class AnyFilter:
    """At least one of ``filters`` holds."""

    filters: tuple[Filter, ...]


Filter = (
    TagFilter
    | ChannelFilter
    | ConsentFilter
    | SourceFilter
    | InboundFilter
    | FirstSeenFilter
    | OrderFilter
    | AttributeFilter
    | AttributeCondition
    | AnyFilter
)
"""``AttributeFilter`` is the definition's untyped condition; :func:`resolve` turns it into
an ``AttributeCondition`` typed by the tenant's declaration, which storage evaluates."""


@dataclass(frozen=True, slots=True)
class SegmentQuery:
    """The contacts of ``tenant_id`` for which every filter holds (none: every contact)."""

    tenant_id: str
    filters: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class SegmentMember:
    """A member as a preview shows it."""

    contact_id: str
    display_name: str | None
    channel: str
    """The channel's id within the tenant (``web``)."""


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    """A saved segment: its name (unique per tenant) and definition (canonical JSON)."""

    id: str
    tenant_id: str
    name: str
    definition_json: str
    created_at: datetime
    created_by: str
    updated_at: datetime
