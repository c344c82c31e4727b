"""Repository Protocols of value analytics: business events and the metrics' aggregations.

Contract module. The heavy aggregation runs in SQL; these methods return the
small per-range or per-contact facts the pure definitions in
:mod:`kindbot.analytics.metrics` turn into the metrics document. Ranges are
half-open ``[start, end)`` of UTC instants.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kindbot.core.records.analytics import (
    BucketFacts,
    BusinessEventRecord,
    ChannelFacts,
    CohortWeekCount,
    ConversationFacts,
    FirstBuyer,
    MetricsScope,
    MoneyTotals,
    NewBusinessEvent,
    NewContact,
)


class BusinessEventRepository(Protocol):
    """A tenant's business events, unique by ``(tenant, event_id)``."""

    async def existing_ids(self, tenant_id: str, event_ids: Sequence[str]) -> set[str]:
        """Which of ``event_ids`` the tenant already has."""
        ...

    async def insert_new(
        self, tenant_id: str, events: Sequence[NewBusinessEvent], now: datetime
    ) -> None:
        """Store ``events``; one whose ``event_id`` the tenant already has is ignored
        (``ON CONFLICT DO NOTHING``: concurrent imports never raise)."""
        ...

    async def begin_bulk(self) -> None:
        """Many events follow in this transaction (a file import): a backend may trade
        memory for speed until :meth:`end_bulk` (SQLite: a larger page cache)."""
        ...

    async def end_bulk(self) -> None:
        """Undo :meth:`begin_bulk`."""
        ...

    async def list_for_contact(self, contact_id: str) -> list[BusinessEventRecord]:
        """The contact's events, oldest first."""
        ...

    async def count(self, tenant_id: str) -> int:
        """How many events the tenant has."""
        ...


class MetricsRepository(Protocol):
    """The aggregations behind the value metrics (activity = an inbound message or a
    business event of any type; first seen = a contact's earliest activity)."""

    async def active_contacts(self, scope: MetricsScope, start: datetime, end: datetime) -> int:
        """Distinct contacts with activity in the range."""
        ...

    async def money(
        self, scope: MetricsScope, start: datetime, end: datetime, currency: str
    ) -> MoneyTotals:
        """``order`` events (any currency) and the order and refund amounts in ``currency``."""
        ...

    async def new_contacts(
        self, scope: MetricsScope, start: datetime, end: datetime
    ) -> list[NewContact]:
        """Contacts first seen in the range, with their first order ever."""
        ...

    async def first_buyers(
        self, scope: MetricsScope, start: datetime, end: datetime
    ) -> list[FirstBuyer]:
        """Contacts whose first order ever is in the range, with the next order after it."""
        ...

    async def cohort_activity(
        self, scope: MetricsScope, bounds: Sequence[datetime]
    ) -> list[CohortWeekCount]:
        """Contacts first seen in ``[bounds[0], bounds[-1])``, counted by the week of first
        seen and each week with activity in that range (week ``i`` is
        ``[bounds[i], bounds[i+1])``); only pairs with at least one contact."""
        ...

    async def series(
        self, scope: MetricsScope, bounds: Sequence[datetime], currency: str
    ) -> list[BucketFacts]:
        """Per bucket ``i`` (``[bounds[i], bounds[i+1])``): active contacts, orders and the
        order and refund amounts in ``currency``; only buckets with activity."""
        ...

    async def by_channel(
        self, tenant_id: str, start: datetime, end: datetime, currency: str
    ) -> list[ChannelFacts]:
        """Per channel with activity in the range: active contacts, orders and the order
        and refund amounts in ``currency`` (two grouped statements)."""
        ...

    async def conversation_facts(
        self, scope: MetricsScope, start: datetime, end: datetime
    ) -> ConversationFacts:
        """The counts behind conversation health in the range."""
        ...
