"""From a definition in the shop's terms to the absolute filters storage evaluates (pure).

:func:`resolve` fixes everything relative for one evaluation: "within N days"
becomes an instant ``now − N × 24 h``, local dates become the UTC instants of
their local midnights in the tenant's time zone, decimal revenue bounds become
integer minor units, and RFM score ranges become bounds on the order count,
revenue and last order (:mod:`kindbot.segments.rfm`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from kindbot.analytics.money import MINOR_DIGITS
from kindbot.analytics.periods import local_midnight
from kindbot.contacts.attributes import json_value
from kindbot.contacts.search import ops_for
from kindbot.core.records.directory import AttributeCondition, AttributeType
from kindbot.core.records.directory import AttributeOp as DirectoryOp
from kindbot.core.records.segments import (
    AnyFilter,
    AttributeFilter,
    ChannelFilter,
    ConsentFilter,
    Filter,
    FirstSeenFilter,
    InboundFilter,
    OrderFilter,
    SegmentQuery,
    SourceFilter,
    TagFilter,
)
from kindbot.segments.codec import InvalidSegmentError, SegmentProblem
from kindbot.segments.definition import (
    AnyOfCondition,
    ChannelCondition,
    Condition,
    ConsentCondition,
    FirstSeenCondition,
    LastInboundCondition,
    LastOrderCondition,
    OrdersCondition,
    RevenueCondition,
    RfmCondition,
    SegmentDefinition,
    SourceCondition,
    TagsCondition,
)
from kindbot.segments.rfm import frequency_bounds, monetary_bounds, recency_bounds


def typed_attribute(
    condition: AttributeFilter, declared: Mapping[str, AttributeType]
) -> AttributeCondition:
    """The condition typed by the attribute's declaration; 422 ``invalid_segment`` saying
    what does not fit."""
    where = f"attribute {condition.name}"
    kind = declared.get(condition.name)
    if kind is None:
        known = ", ".join(sorted(declared)) or "none"
        raise InvalidSegmentError(
            [SegmentProblem(where, f"not a declared attribute (declared: {known})")]
        )
    op = DirectoryOp(condition.op.value)
    if op not in ops_for(kind):
        raise InvalidSegmentError(
            [SegmentProblem(where, f"{op.value} does not apply to a {kind.value} attribute")]
        )
    if condition.value is None:
        return AttributeCondition(condition.name, kind, op, None)
    try:
        value = json_value(kind, condition.value)
    except ValueError as exc:
        raise InvalidSegmentError([SegmentProblem(where, str(exc))]) from None
    return AttributeCondition(condition.name, kind, op, value)


def resolve(
    definition: SegmentDefinition,
    *,
    tenant_id: str,
    now: datetime,
    zone: ZoneInfo,
    currency: str,
    attributes: Mapping[str, AttributeType] | None = None,
) -> SegmentQuery:
    """The query for ``definition`` evaluated at ``now`` for the tenant.

    ``attributes`` are the tenant's declared attributes and their types: an
    attribute condition is typed by its declaration (422 ``invalid_segment`` for
    an undeclared attribute, a comparison its type has not, or a value of
    another type).
    """
    context = _Context(now, zone, currency, attributes or {})
    return SegmentQuery(tenant_id, tuple(context.filter(c) for c in definition.conditions))


class _Context:
    def __init__(
        self,
        now: datetime,
        zone: ZoneInfo,
        currency: str,
        attributes: Mapping[str, AttributeType],
    ) -> None:
        self.now, self.zone, self.currency = now, zone, currency
        self.attributes = attributes

    def minor(self, amount: Decimal) -> int:
        """``amount`` in minor units, rounded up (a lower bound on whole minor units)."""
        scaled = amount.scaleb(MINOR_DIGITS[self.currency])
        return int(scaled.to_integral_value(rounding="ROUND_CEILING"))

    def filter(self, condition: Condition) -> Filter:
        match condition:
            case TagsCondition(all=every, any=some, none=no):
                return TagFilter(every, some, no)
            case ChannelCondition(channels=channels):
                return ChannelFilter(channels)
            case ConsentCondition(topic=topic):
                return ConsentFilter(topic)
            case SourceCondition(sources=sources):
                return SourceFilter(sources)
            case LastInboundCondition(days=days, within=within):
                return InboundFilter(self.now - timedelta(days=days), present=within)
            case FirstSeenCondition(start=start, end=end):
                return FirstSeenFilter(
                    local_midnight(start, self.zone) if start is not None else None,
                    local_midnight(end, self.zone) if end is not None else None,
                )
            case OrdersCondition(min=low, max=high):
                return OrderFilter(self.currency, min_orders=low, max_orders=high)
            case RevenueCondition(min=low, max=high):
                return OrderFilter(
                    self.currency,
                    min_revenue=self.minor(low) if low is not None else None,
                    max_revenue=-self.minor(-high) if high is not None else None,
                )
            case LastOrderCondition(days=days, within=within):
                edge = self.now - timedelta(days=days)
                if within:
                    return OrderFilter(self.currency, last_order_from=edge)
                return OrderFilter(self.currency, last_order_before=edge)
            case RfmCondition():
                return self.rfm(condition)
            case AnyOfCondition(conditions=conditions):
                return AnyFilter(tuple(self.filter(c) for c in conditions))
            case AttributeFilter():
                return typed_attribute(condition, self.attributes)
        raise AssertionError(condition)  # pragma: no cover (the match is exhaustive)

    def rfm(self, condition: RfmCondition) -> OrderFilter:
        """Score ranges as bounds; every RFM condition requires at least one order."""
        min_orders: int | None = 1
        max_orders: int | None = None
        last_from = last_before = None
        min_revenue = max_revenue = None
        if condition.r is not None:
            last_from, last_before = recency_bounds(*condition.r, self.now)
        if condition.f is not None:
            min_orders, max_orders = frequency_bounds(*condition.f)
        if condition.m is not None:
            low, below = monetary_bounds(*condition.m)
            min_revenue = self.minor(low) if low is not None else None
            # revenue < below  ⇔  revenue ≤ below − one minor unit
            max_revenue = self.minor(below) - 1 if below is not None else None
        return OrderFilter(
            self.currency,
            min_orders=min_orders,
            max_orders=max_orders,
            min_revenue=min_revenue,
            max_revenue=max_revenue,
            last_order_from=last_from,
            last_order_before=last_before,
        )
