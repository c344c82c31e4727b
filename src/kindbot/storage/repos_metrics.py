"""The value metrics' aggregations over SQL (``tx.metrics``), on SQLite and PostgreSQL.

*Activity* is an inbound message (``messages.direction = 'inbound'``, at
``created_at``) or a business event of any type (at ``occurred_at``); a
contact's *first seen* is its earliest activity. Every query is one statement
over the tenant's rows (optionally one channel's), grouped in the database;
only per-range counts, or per-contact facts for the contacts a metric is
about, come back. Each starts from the range's activity (the events' index
``tenant_id, occurred_at, contact_id`` answers it alone) and looks up only
those contacts' earlier or later events (``tenant_id, contact_id, occurred_at,
type``), so its cost follows the range, not the tenant's history. Inbound
messages have no contact index: their part scans the tenant's inbound
messages. Week buckets are given as UTC boundaries computed by the caller in
the tenant's time zone, so no statement needs time-zone support.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    union,
    union_all,
)

from kindbot.core.records.analytics import (
    BucketFacts,
    ChannelFacts,
    CohortWeekCount,
    ConversationFacts,
    FirstBuyer,
    MetricsScope,
    MoneyTotals,
    NewContact,
)
from kindbot.core.records.conversations import Direction
from kindbot.storage.executor import Executor
from kindbot.storage.schema import business_events, consents, contacts, handoffs, messages

ORDER = "order"
REFUND = "refund"
COMPLAINT = "complaint"
FALLBACK = "fallback"
AGENT = "agent"
"""``messages.origin`` values (``ReplyOrigin``) the conversation figures read."""

Range = tuple[datetime, datetime] | None


def _inbound(scope: MetricsScope, span: Range) -> list[ColumnElement[bool]]:
    where = [messages.c.tenant_id == scope.tenant_id, messages.c.direction == Direction.INBOUND]
    if scope.channel_id is not None:
        where.append(messages.c.channel_id == scope.channel_id)
    if span is not None:
        where += [messages.c.created_at >= span[0], messages.c.created_at < span[1]]
    return where


def _events(scope: MetricsScope, span: Range, *types: str) -> list[ColumnElement[bool]]:
    be = business_events.c
    where = [be.tenant_id == scope.tenant_id]
    if types:
        where.append(be.type.in_(types) if len(types) > 1 else be.type == types[0])
    if scope.channel_id is not None:
        where.append(be.channel_id == scope.channel_id)
    if span is not None:
        where += [be.occurred_at >= span[0], be.occurred_at < span[1]]
    return where


def _activity(scope: MetricsScope, span: Range) -> Any:
    """Every activity ``(contact_id, at)`` in the range (a subquery)."""
    return union_all(
        select(messages.c.contact_id.label("contact_id"), messages.c.created_at.label("at")).where(
            *_inbound(scope, span)
        ),
        select(
            business_events.c.contact_id.label("contact_id"),
            business_events.c.occurred_at.label("at"),
        ).where(*_events(scope, span)),
    ).subquery("activity")


def _first_seen_in(scope: MetricsScope, start: datetime, end: datetime) -> Any:
    """``(contact_id, first_seen)`` of the contacts first seen in the range (a subquery).

    Candidates are the contacts active in the range (their earliest activity in
    it, from the covering index); a candidate is new unless it has an event
    (a lookup in its own events) or an inbound message before ``start``.
    """
    be = business_events.c
    activity = _activity(scope, (start, end))
    earlier_event = exists().where(
        be.tenant_id == scope.tenant_id,
        be.contact_id == activity.c.contact_id,
        be.occurred_at < start,
    )
    earlier_message = select(messages.c.contact_id).where(
        *_inbound(scope, None), messages.c.created_at < start
    )
    return (
        select(activity.c.contact_id, func.min(activity.c.at).label("first_seen"))
        .group_by(activity.c.contact_id)
        .having(not_(earlier_event), activity.c.contact_id.not_in(earlier_message))
        .subquery("first_seen")
    )


def _first_order_of(contact_id: Any, scope: MetricsScope, after: Any = None) -> Any:
    """The contact's earliest order (strictly after ``after`` when given): a scalar subquery."""
    be = business_events.alias("orders")
    where = [be.c.tenant_id == scope.tenant_id, be.c.contact_id == contact_id, be.c.type == ORDER]
    if after is not None:
        where.append(be.c.occurred_at > after)
    return select(func.min(be.c.occurred_at)).where(*where).scalar_subquery()


def _week(at: Any, bounds: Sequence[datetime]) -> Any:
    """The index ``i`` with ``bounds[i] <= at < bounds[i+1]`` (``at`` already in range)."""
    whens = [(at < bound, index) for index, bound in enumerate(bounds[1:-1])]
    return case(*whens, else_=len(bounds) - 2) if whens else literal(0)


class SqlMetrics:
    """:class:`kindbot.core.ports.analytics.MetricsRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def _scalar(self, query: Select[Any]) -> int:
        return int((await self._conn.execute(query)).scalar_one() or 0)

    async def active_contacts(self, scope: MetricsScope, start: datetime, end: datetime) -> int:
        span = (start, end)
        who = union(
            select(messages.c.contact_id.label("contact_id")).where(*_inbound(scope, span)),
            select(business_events.c.contact_id.label("contact_id")).where(*_events(scope, span)),
        ).subquery("active")
        return await self._scalar(select(func.count()).select_from(who))

    async def money(
        self, scope: MetricsScope, start: datetime, end: datetime, currency: str
    ) -> MoneyTotals:
        be = business_events.c
        in_currency = be.currency == currency
        query = select(
            func.count().filter(be.type == ORDER),
            func.coalesce(func.sum(be.amount_minor).filter(be.type == ORDER, in_currency), 0),
            func.coalesce(func.sum(be.amount_minor).filter(be.type == REFUND, in_currency), 0),
        ).where(*_events(scope, (start, end), ORDER, REFUND))
        row = (await self._conn.execute(query)).one()
        return MoneyTotals(int(row[0]), int(row[1]), int(row[2]))

    async def new_contacts(
        self, scope: MetricsScope, start: datetime, end: datetime
    ) -> list[NewContact]:
        seen = _first_seen_in(scope, start, end)
        first_order = _first_order_of(seen.c.contact_id, scope).label("first_order")
        query = select(seen.c.contact_id, seen.c.first_seen, first_order)
        return [NewContact(r[0], r[1], r[2]) for r in await self._conn.execute(query)]

    async def first_buyers(
        self, scope: MetricsScope, start: datetime, end: datetime
    ) -> list[FirstBuyer]:
        be = business_events.c
        earlier = business_events.alias("earlier")
        ordered_before = exists().where(
            earlier.c.tenant_id == scope.tenant_id,
            earlier.c.contact_id == be.contact_id,
            earlier.c.type == ORDER,
            earlier.c.occurred_at < start,
        )
        buyers = (
            select(be.contact_id, func.min(be.occurred_at).label("first_order"))
            .where(*_events(scope, (start, end), ORDER))
            .group_by(be.contact_id)
            .having(not_(ordered_before))
            .subquery("buyers")
        )
        following = _first_order_of(buyers.c.contact_id, scope, after=buyers.c.first_order)
        query = select(buyers.c.contact_id, buyers.c.first_order, following.label("next_order"))
        return [FirstBuyer(r[0], r[1], r[2]) for r in await self._conn.execute(query)]

    async def cohort_activity(
        self, scope: MetricsScope, bounds: Sequence[datetime]
    ) -> list[CohortWeekCount]:
        if len(bounds) < 2:
            return []
        span = (bounds[0], bounds[-1])
        seen = _first_seen_in(scope, *span)
        members = select(
            seen.c.contact_id, _week(seen.c.first_seen, bounds).label("cohort_week")
        ).cte("members")
        be = business_events.c
        # Each member's events are found through its own index entries (not by scanning
        # every activity of the range); the pairs are distinct across both sources.
        from_events = (
            select(members.c.contact_id, members.c.cohort_week, _week(be.occurred_at, bounds))
            .select_from(members.join(business_events, be.contact_id == members.c.contact_id))
            .where(*_events(scope, span))
        )
        from_messages = (
            select(
                members.c.contact_id,
                members.c.cohort_week,
                _week(messages.c.created_at, bounds),
            )
            .select_from(members.join(messages, messages.c.contact_id == members.c.contact_id))
            .where(*_inbound(scope, span))
        )
        pairs = union(from_events, from_messages).subquery("pairs")
        cohort_week, active_week = pairs.c[1], pairs.c[2]
        query = select(cohort_week, active_week, func.count()).group_by(cohort_week, active_week)
        rows = await self._conn.execute(query)
        return [CohortWeekCount(int(r[0]), int(r[1]), int(r[2])) for r in rows]

    async def series(
        self, scope: MetricsScope, bounds: Sequence[datetime], currency: str
    ) -> list[BucketFacts]:
        if len(bounds) < 2:
            return []
        span = (bounds[0], bounds[-1])
        activity = _activity(scope, span)
        pairs = (
            select(activity.c.contact_id, _week(activity.c.at, bounds).label("bucket"))
            .distinct()
            .subquery("pairs")
        )
        active_rows = await self._conn.execute(
            select(pairs.c.bucket, func.count()).group_by(pairs.c.bucket)
        )
        active = {int(r[0]): int(r[1]) for r in active_rows}
        be = business_events.c
        in_currency = be.currency == currency
        bucket = _week(be.occurred_at, bounds).label("bucket")
        money_rows = await self._conn.execute(
            select(
                bucket,
                func.count().filter(be.type == ORDER),
                func.coalesce(func.sum(be.amount_minor).filter(be.type == ORDER, in_currency), 0),
                func.coalesce(func.sum(be.amount_minor).filter(be.type == REFUND, in_currency), 0),
            )
            .where(*_events(scope, span, ORDER, REFUND))
            .group_by(bucket)
        )
        money = {int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in money_rows}
        return [
            BucketFacts(i, active.get(i, 0), *money.get(i, (0, 0, 0)))
            for i in sorted(active.keys() | money.keys())
        ]

    async def by_channel(
        self, tenant_id: str, start: datetime, end: datetime, currency: str
    ) -> list[ChannelFacts]:
        scope, span = MetricsScope(tenant_id), (start, end)
        pairs = union(
            select(messages.c.channel_id.label("channel_id"), messages.c.contact_id).where(
                *_inbound(scope, span)
            ),
            select(
                business_events.c.channel_id.label("channel_id"), business_events.c.contact_id
            ).where(*_events(scope, span)),
        ).subquery("pairs")
        active_rows = await self._conn.execute(
            select(pairs.c.channel_id, func.count()).group_by(pairs.c.channel_id)
        )
        active = {str(r[0]): int(r[1]) for r in active_rows}
        be = business_events.c
        in_currency = be.currency == currency
        money_rows = await self._conn.execute(
            select(
                be.channel_id,
                func.count().filter(be.type == ORDER),
                func.coalesce(func.sum(be.amount_minor).filter(be.type == ORDER, in_currency), 0),
                func.coalesce(func.sum(be.amount_minor).filter(be.type == REFUND, in_currency), 0),
            )
            .where(*_events(scope, span, ORDER, REFUND))
            .group_by(be.channel_id)
        )
        money = {str(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in money_rows}
        return [
            ChannelFacts(channel, active.get(channel, 0), *money.get(channel, (0, 0, 0)))
            for channel in sorted(active.keys() | money.keys())
        ]

    async def conversation_facts(
        self, scope: MetricsScope, start: datetime, end: datetime
    ) -> ConversationFacts:
        span = (start, end)
        talked = (
            select(messages.c.conversation_id)
            .where(*_inbound(scope, span))
            .group_by(messages.c.conversation_id)
            .subquery("talked")
        )
        replies = messages.alias("replies")
        bot_replied = exists().where(
            replies.c.conversation_id == talked.c.conversation_id,
            replies.c.direction == Direction.OUTBOUND,
            replies.c.reply_to_id.is_not(None),
            replies.c.created_at >= start,
            replies.c.created_at < end,
        )
        handed = exists().where(
            handoffs.c.conversation_id == talked.c.conversation_id,
            handoffs.c.requested_at >= start,
            handoffs.c.requested_at < end,
        )
        fell_back = exists().where(
            replies.c.conversation_id == talked.c.conversation_id,
            replies.c.direction == Direction.OUTBOUND,
            replies.c.origin == FALLBACK,
            replies.c.created_at >= start,
            replies.c.created_at < end,
        )
        counts = (
            await self._conn.execute(
                select(
                    func.count(),
                    func.count().filter(bot_replied, not_(handed)),
                    func.count().filter(handed),
                    func.count().filter(fell_back),
                ).select_from(talked)
            )
        ).one()
        rated = [
            handoffs.c.tenant_id == scope.tenant_id,
            handoffs.c.rating.is_not(None),
            handoffs.c.resolved_at >= start,
            handoffs.c.resolved_at < end,
        ]
        if scope.channel_id is not None:
            rated.append(
                handoffs.c.contact_id.in_(
                    select(contacts.c.id).where(contacts.c.channel_id == scope.channel_id)
                )
            )
        ratings = (
            await self._conn.execute(
                select(func.count(), func.coalesce(func.sum(handoffs.c.rating), 0)).where(*rated)
            )
        ).one()
        consenting, opted_out = await self._opt_outs(scope, start, end)
        complained = await self._scalar(
            select(func.count(business_events.c.contact_id.distinct())).where(
                *_events(scope, span, COMPLAINT)
            )
        )
        return ConversationFacts(
            conversations=int(counts[0]),
            bot_answered=int(counts[1]),
            handed_off=int(counts[2]),
            ratings=int(ratings[0]),
            rating_sum=int(ratings[1]),
            consenting_at_start=consenting,
            opted_out=opted_out,
            complained=complained,
            fell_back=int(counts[3]),
            first_responses=await self._first_responses(scope, start, end),
        )

    async def _first_responses(
        self, scope: MetricsScope, start: datetime, end: datetime
    ) -> tuple[float, ...]:
        """Seconds from each handoff requested in the range to the first agent message in
        its conversation after the request (answered handoffs only)."""
        h = handoffs.c
        answered = (
            select(func.min(messages.c.created_at))
            .where(
                messages.c.conversation_id == h.conversation_id,
                messages.c.direction == Direction.OUTBOUND,
                messages.c.origin == AGENT,
                messages.c.created_at >= h.requested_at,
            )
            .scalar_subquery()
        )
        where = [h.tenant_id == scope.tenant_id, h.requested_at >= start, h.requested_at < end]
        if scope.channel_id is not None:
            where.append(
                h.contact_id.in_(
                    select(contacts.c.id).where(contacts.c.channel_id == scope.channel_id)
                )
            )
        rows = await self._conn.execute(select(h.requested_at, answered).where(*where))
        return tuple((first - asked).total_seconds() for asked, first in rows if first is not None)

    async def _opt_outs(
        self, scope: MetricsScope, start: datetime, end: datetime
    ) -> tuple[int, int]:
        """Contacts with a consent active at ``start`` (and not opted out by message
        before it); those of them who opted out by message in the range or hold no
        consent active at ``end``."""

        def active_at(at: datetime) -> list[ColumnElement[bool]]:
            where = [
                consents.c.tenant_id == scope.tenant_id,
                consents.c.granted_at < at,
                or_(consents.c.withdrawn_at.is_(None), consents.c.withdrawn_at >= at),
            ]
            if scope.channel_id is not None:
                where.append(consents.c.channel_id == scope.channel_id)
            return where

        stopped_before = exists().where(
            contacts.c.id == consents.c.contact_id, contacts.c.opted_out_at < start
        )
        at_start = (
            select(consents.c.contact_id)
            .where(*active_at(start), not_(stopped_before))
            .group_by(consents.c.contact_id)
        ).subquery("at_start")
        still = exists().where(consents.c.contact_id == at_start.c.contact_id, *active_at(end))
        stopped = exists().where(
            contacts.c.id == at_start.c.contact_id,
            contacts.c.opted_out_at >= start,
            contacts.c.opted_out_at < end,
        )
        row = (
            await self._conn.execute(
                select(func.count(), func.count().filter(or_(stopped, not_(still)))).select_from(
                    at_start
                )
            )
        ).one()
        return int(row[0]), int(row[1])
