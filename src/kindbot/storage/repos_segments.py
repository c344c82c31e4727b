"""Segments over SQL (``tx.segments``): saved definitions, and membership as one SELECT.

A :class:`~kindbot.core.records.segments.SegmentQuery` compiles to a WHERE
clause on ``contacts`` (the tenant's rows), one predicate per filter, the same
statement on SQLite and PostgreSQL:

* tags, consent, inbound messages, first seen — ``EXISTS`` / ``NOT EXISTS``
  subqueries correlated on the contact (answered from the indexes
  ``contact_tags (contact_id, tag)``, ``consents (contact_id, status)``,
  ``messages (contact_id, direction, created_at)``, ``business_events
  (tenant_id, contact_id, occurred_at, type)``);
* channel, source — columns of ``contacts``;
* order count, revenue, last order (and RFM, already turned into those
  bounds) — the contact's id ``IN`` the ids of one aggregate of the tenant's
  orders and refunds grouped by contact with the bounds as ``HAVING``; when a
  contact without any order passes the bounds (``orders ≤ 1``), ``NOT IN``
  the contacts the bounds exclude instead, so non-buyers need no rows.

*First seen* follows :mod:`kindbot.storage.repos_metrics`: the earliest
activity, an inbound message (``messages.direction = 'inbound'``) or a
business event of any type. Attribute filters are refused with
:class:`~kindbot.core.errors.BadRequestError` until the attributes' table exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    func,
    not_,
    or_,
    select,
    true,
    update,
)

from kindbot.core.errors import BadRequestError
from kindbot.core.records.consent import ConsentStatus
from kindbot.core.records.conversations import Direction
from kindbot.core.records.segments import (
    AnyFilter,
    AttributeFilter,
    ChannelFilter,
    ConsentFilter,
    Filter,
    FirstSeenFilter,
    InboundFilter,
    OrderFilter,
    SegmentMember,
    SegmentQuery,
    SegmentRecord,
    SourceFilter,
    TagFilter,
)
from kindbot.storage.executor import Executor
from kindbot.storage.schema import (
    business_events,
    channels,
    consents,
    contact_tags,
    contacts,
    messages,
    segments,
)
from kindbot.storage.sqlutil import insert_ignoring_conflict, new_id

ORDER = "order"
REFUND = "refund"

c = contacts.c


def _tags(tenant_id: str, f: TagFilter) -> list[ColumnElement[bool]]:
    def tagged(*tags: str) -> ColumnElement[bool]:
        tag = contact_tags.c.tag
        return exists().where(
            contact_tags.c.contact_id == c.id,
            contact_tags.c.tenant_id == tenant_id,
            tag == tags[0] if len(tags) == 1 else tag.in_(tags),
        )

    parts = [tagged(t) for t in f.all]
    if f.any:
        parts.append(tagged(*f.any))
    if f.none:
        parts.append(not_(tagged(*f.none)))
    return parts


def _inbound(*when: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(
        messages.c.contact_id == c.id, messages.c.direction == Direction.INBOUND, *when
    )


def _event(tenant_id: str, *when: ColumnElement[bool]) -> ColumnElement[bool]:
    be = business_events.c
    return exists().where(be.tenant_id == tenant_id, be.contact_id == c.id, *when)


def _active(tenant_id: str, start: datetime | None, end: datetime | None) -> ColumnElement[bool]:
    """Has activity (an inbound message or a business event) in ``[start, end)``."""
    at, occurred = messages.c.created_at, business_events.c.occurred_at
    span_m = [at >= start] if start is not None else []
    span_e = [occurred >= start] if start is not None else []
    if end is not None:
        span_m.append(at < end)
        span_e.append(occurred < end)
    return or_(_inbound(*span_m), _event(tenant_id, *span_e))


def _first_seen(tenant_id: str, f: FirstSeenFilter) -> list[ColumnElement[bool]]:
    parts = [_active(tenant_id, f.start, f.end)]
    if f.start is not None:
        parts.append(not_(_active(tenant_id, None, f.start)))
    return parts


def _orders(tenant_id: str, f: OrderFilter) -> ColumnElement[bool]:
    be = business_events.c
    is_order = be.type == ORDER
    in_currency = be.currency == f.currency
    count = func.count().filter(is_order)
    revenue = func.coalesce(
        func.sum(be.amount_minor).filter(is_order, in_currency), 0
    ) - func.coalesce(func.sum(be.amount_minor).filter(be.type == REFUND, in_currency), 0)
    last = func.max(be.occurred_at).filter(is_order)
    bounds: list[ColumnElement[bool]] = []
    if f.min_orders is not None:
        bounds.append(count >= f.min_orders)
    if f.max_orders is not None:
        bounds.append(count <= f.max_orders)
    if f.min_revenue is not None:
        bounds.append(revenue >= f.min_revenue)
    if f.max_revenue is not None:
        bounds.append(revenue <= f.max_revenue)
    if f.last_order_from is not None:
        bounds.append(last >= f.last_order_from)
    if f.last_order_before is not None:
        bounds.append(last < f.last_order_before)
    if not bounds:
        return true()
    uses_revenue = f.min_revenue is not None or f.max_revenue is not None
    types = be.type.in_((ORDER, REFUND)) if uses_revenue else is_order
    grouped = select(be.contact_id).where(be.tenant_id == tenant_id, types).group_by(be.contact_id)
    if f.holds_without_orders():
        # Count and revenue only (never NULL): keep all but those the bounds exclude.
        return c.id.not_in(grouped.having(not_(and_(*bounds))))
    return c.id.in_(grouped.having(and_(*bounds)))


def _filter(tenant_id: str, f: Filter) -> list[ColumnElement[bool]]:
    match f:
        case TagFilter():
            return _tags(tenant_id, f)
        case ChannelFilter(local_ids=local_ids):
            ids = select(channels.c.id).where(
                channels.c.tenant_id == tenant_id, channels.c.local_id.in_(local_ids)
            )
            return [c.channel_id.in_(ids)]
        case ConsentFilter(topic=topic):
            consented = exists().where(
                consents.c.contact_id == c.id,
                consents.c.status == ConsentStatus.ACTIVE.value,
                consents.c.topic == topic,
            )
            return [consented, c.opted_out_at.is_(None)]
        case SourceFilter(sources=sources):
            return [c.source.in_(sources)]
        case InboundFilter(since=since, present=present):
            wrote = _inbound(messages.c.created_at >= since)
            return [wrote if present else not_(wrote)]
        case FirstSeenFilter():
            return _first_seen(tenant_id, f)
        case OrderFilter():
            return [_orders(tenant_id, f)]
        case AttributeFilter():
            raise BadRequestError(
                "attribute conditions are not available yet", code="unsupported_condition"
            )
        case AnyFilter(filters=filters):
            return [or_(*(and_(*_filter(tenant_id, g)) for g in filters))]
    raise AssertionError(f)  # pragma: no cover (the match is exhaustive)


def members_where(query: SegmentQuery) -> list[ColumnElement[bool]]:
    """The WHERE clause (on ``contacts``) selecting the query's members."""
    where: list[ColumnElement[bool]] = [c.tenant_id == query.tenant_id]
    for f in query.filters:
        where += _filter(query.tenant_id, f)
    return where


def _record(row: Any) -> SegmentRecord:
    return SegmentRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        definition_json=row.definition_json,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
    )


class SqlSegments:
    """:class:`kindbot.core.ports.segments.SegmentRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def create(
        self, tenant_id: str, name: str, definition_json: str, created_by: str, now: datetime
    ) -> SegmentRecord | None:
        values = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "name": name,
            "definition_json": definition_json,
            "created_at": now,
            "created_by": created_by,
            "updated_at": now,
        }
        if not await insert_ignoring_conflict(self._conn, segments, values, ["tenant_id", "name"]):
            return None
        return await self.get(tenant_id, name)

    async def get(self, tenant_id: str, name: str) -> SegmentRecord | None:
        query = select(segments).where(segments.c.tenant_id == tenant_id, segments.c.name == name)
        row = (await self._conn.execute(query)).first()
        return _record(row) if row is not None else None

    async def of_tenant(self, tenant_id: str) -> list[SegmentRecord]:
        query = select(segments).where(segments.c.tenant_id == tenant_id).order_by(segments.c.name)
        return [_record(r) for r in await self._conn.execute(query)]

    async def update(
        self, tenant_id: str, name: str, definition_json: str, now: datetime
    ) -> SegmentRecord | None:
        result = await self._conn.execute(
            update(segments)
            .where(segments.c.tenant_id == tenant_id, segments.c.name == name)
            .values(definition_json=definition_json, updated_at=now)
        )
        return await self.get(tenant_id, name) if result.rowcount else None

    async def delete(self, tenant_id: str, name: str) -> bool:
        result = await self._conn.execute(
            delete(segments).where(segments.c.tenant_id == tenant_id, segments.c.name == name)
        )
        return bool(result.rowcount)

    def check(self, query: SegmentQuery) -> None:
        members_where(query)

    async def count(self, query: SegmentQuery) -> int:
        statement: Select[Any] = (
            select(func.count()).select_from(contacts).where(*members_where(query))
        )
        return int((await self._conn.execute(statement)).scalar_one())

    async def sample(self, query: SegmentQuery, limit: int) -> list[SegmentMember]:
        statement = (
            select(c.id, c.display_name, channels.c.local_id)
            .select_from(contacts.join(channels, channels.c.id == c.channel_id))
            .where(*members_where(query))
            .order_by(c.id)
            .limit(limit)
        )
        rows = await self._conn.execute(statement)
        return [SegmentMember(r[0], r[1], r[2]) for r in rows]

    async def member_ids(self, query: SegmentQuery, after: str | None, limit: int) -> list[str]:
        where = members_where(query)
        if after is not None:
            where.append(c.id > after)
        statement = select(c.id).where(*where).order_by(c.id).limit(limit)
        return [r[0] for r in await self._conn.execute(statement)]
