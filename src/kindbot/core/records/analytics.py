"""Business events and the facts the value metrics are computed from (issue 16).

Money is integer minor units of an ISO 4217 currency (``amount_minor`` 1999
with ``currency`` ``CNY`` is ¥19.99), never a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class EventContact:
    """Who an event is about, as the shop names them: a kindbot contact id, or the
    channel's id within the tenant (``web``, ``oa``) and the contact's id there."""

    contact_id: str | None = None
    channel: str | None = None
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class BusinessEvent:
    """One validated business event, before its contact is resolved.

    ``properties_json`` is the compact JSON of the event's ``properties``
    object (None when absent).
    """

    event_id: str
    type: str
    occurred_at: datetime
    contact: EventContact
    amount_minor: int | None
    currency: str | None
    order_id: str | None
    properties_json: str | None


@dataclass(frozen=True, slots=True)
class NewBusinessEvent:
    """A business event ready to store: its contact (and that contact's channel) resolved."""

    event_id: str
    type: str
    occurred_at: datetime
    contact_id: str
    channel_id: str
    amount_minor: int | None
    currency: str | None
    order_id: str | None
    properties_json: str | None


@dataclass(frozen=True, slots=True)
class BusinessEventRecord:
    """A stored business event."""

    tenant_id: str
    event_id: str
    type: str
    occurred_at: datetime
    contact_id: str
    channel_id: str
    amount_minor: int | None
    currency: str | None
    order_id: str | None
    properties_json: str | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What a batch did: ``accepted`` events stored, ``duplicates`` ignored (their
    ``event_id`` was already stored, or repeated within the batch)."""

    accepted: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class MetricsScope:
    """Which of a tenant's data a metric reads: all of it, or one channel's contacts."""

    tenant_id: str
    channel_id: str | None = None


@dataclass(frozen=True, slots=True)
class MoneyTotals:
    """Order and refund events in a time range (amounts in one currency)."""

    orders: int
    order_minor: int
    refund_minor: int


@dataclass(frozen=True, slots=True)
class NewContact:
    """A contact first seen in a range: when, and when it first ordered (ever; None: never)."""

    contact_id: str
    first_seen: datetime
    first_order_at: datetime | None


@dataclass(frozen=True, slots=True)
class FirstBuyer:
    """A contact whose first order ever is in a range, and its next order after that one."""

    contact_id: str
    first_order_at: datetime
    next_order_at: datetime | None


@dataclass(frozen=True, slots=True)
class CohortWeekCount:
    """``contacts`` first seen in week ``cohort_week`` had activity in week ``active_week``
    (indices into the week boundaries the query was given; ``active_week >= cohort_week``)."""

    cohort_week: int
    active_week: int
    contacts: int


@dataclass(frozen=True, slots=True)
class BucketFacts:
    """One time bucket of a series (``index`` into the boundaries the query was given):
    distinct active contacts, ``order`` events, and order and refund amounts in one currency."""

    index: int
    active: int
    orders: int
    order_minor: int
    refund_minor: int


@dataclass(frozen=True, slots=True)
class ChannelFacts:
    """One channel's part of a range: distinct active contacts, ``order`` events, and
    order and refund amounts in one currency."""

    channel_id: str
    active: int
    orders: int
    order_minor: int
    refund_minor: int


@dataclass(frozen=True, slots=True)
class ConversationFacts:
    """Counts for conversation health in a range (definitions: ``analytics.metrics``)."""

    conversations: int
    bot_answered: int
    handed_off: int
    ratings: int
    rating_sum: int
    consenting_at_start: int
    opted_out: int
    complained: int = 0
    """Distinct contacts with a ``complaint`` business event in the range."""
    fell_back: int = 0
    """Of ``conversations``, those where the bot replied with its fallback in the range."""
    first_responses: tuple[float, ...] = ()
    """Seconds from each handoff requested in the range to the first agent message after it
    (handoffs no agent has answered yet are left out)."""
