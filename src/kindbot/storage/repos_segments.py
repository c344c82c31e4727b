"""Segments over SQL (``tx.segments``): saved definitions, and membership as one SELECT.

A :class:`~kindbot.core.records.segments.SegmentQuery` compiles to one
statement, the same on SQLite and PostgreSQL (:func:`members`):

* tags, consent, inbound messages — ``EXISTS`` / ``NOT EXISTS`` subqueries on
  the contact (indexes ``contact_tags (tenant_id, tag, contact_id)``,
  ``consents (contact_id, status)``, ``messages (contact_id, direction,
  created_at)``); channel and source — columns of ``contacts``;
* *first seen* as :mod:`kindbot.storage.repos_metrics` defines it (the
  earliest inbound message or business event): activity in the range, and
  none before it;
* order count, revenue, last order (RFM arrives as those bounds) — either
  looked up per candidate in the contact's own events (``business_events
  (tenant_id, contact_id, occurred_at, type)``), when another condition picked
  a small set of candidates first (a MATERIALIZED CTE), or through one
  aggregate of the tenant's orders and refunds grouped by contact.

Attribute conditions arrive typed by the tenant's declaration and compare in
that type's column of ``contact_attributes`` (``ne``: has a value and it differs).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    union_all,
    update,
)

from kindbot.core.records.consent import ConsentStatus
from kindbot.core.records.conversations import Direction
from kindbot.core.records.directory import AttributeCondition, AttributeOp
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
from kindbot.storage.repos_attributes import VALUE_COLUMNS
from kindbot.storage.repos_directory import like_pattern
from kindbot.storage.schema import (
    business_events,
    channels,
    consents,
    contact_attributes,
    contact_tags,
    contacts,
    messages,
    segments,
)
from kindbot.storage.sqlutil import insert_ignoring_conflict, new_id

ORDER = "order"
REFUND = "refund"

c = contacts.c


Who = ColumnElement[str]
"""The contact id column a predicate is about (``contacts.id`` or a candidate's id)."""


def _tags(tenant_id: str, f: TagFilter, who: Who) -> list[ColumnElement[bool]]:
    def tagged(*tags: str) -> ColumnElement[bool]:
        tag = contact_tags.c.tag
        return exists().where(
            contact_tags.c.contact_id == who,
            contact_tags.c.tenant_id == tenant_id,
            tag == tags[0] if len(tags) == 1 else tag.in_(tags),
        )

    parts = [tagged(t) for t in f.all]
    if f.any:
        parts.append(tagged(*f.any))
    if f.none:
        parts.append(not_(tagged(*f.none)))
    return parts


def _inbound(who: Who, *when: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(
        messages.c.contact_id == who, messages.c.direction == Direction.INBOUND, *when
    )


def _spans(start: datetime | None, end: datetime | None) -> tuple[list[Any], list[Any]]:
    """``[start, end)`` on inbound messages' and on events' times."""
    at, occurred = messages.c.created_at, business_events.c.occurred_at
    on_messages = [at >= start] if start is not None else []
    on_events = [occurred >= start] if start is not None else []
    if end is not None:
        on_messages.append(at < end)
        on_events.append(occurred < end)
    return on_messages, on_events


def _active(
    tenant_id: str, who: Who, start: datetime | None, end: datetime | None
) -> ColumnElement[bool]:
    """Has activity (an inbound message or a business event) in ``[start, end)``: two
    lookups in the contact's own index entries."""
    on_messages, on_events = _spans(start, end)
    be = business_events.c
    event = exists().where(be.tenant_id == tenant_id, be.contact_id == who, *on_events)
    return or_(_inbound(who, *on_messages), event)


def _active_in(tenant_id: str, who: Who, start: datetime, end: datetime | None) -> Any:
    """``who`` is among the contacts with activity in ``[start, end)``: one set of the
    range's activity (a semi-join), for when the range picks the candidates."""
    on_messages, on_events = _spans(start, end)
    m, be = messages.c, business_events.c
    inbound = [m.tenant_id == tenant_id, m.direction == Direction.INBOUND]
    return who.in_(
        union_all(
            select(m.contact_id).where(*inbound, *on_messages),
            select(be.contact_id).where(be.tenant_id == tenant_id, *on_events),
        )
    )


def _order_bounds(f: OrderFilter, count: Any, revenue: Any, last: Any) -> list[ColumnElement[bool]]:
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
    return bounds


def _uses_revenue(f: OrderFilter) -> bool:
    return f.min_revenue is not None or f.max_revenue is not None


def _orders_grouped(tenant_id: str, f: OrderFilter, who: Who) -> ColumnElement[bool]:
    """The order bounds over one aggregate of the tenant's orders (and refunds) grouped by
    contact: for when no other condition narrows the contacts first."""
    be = business_events.c
    is_order = be.type == ORDER
    in_currency = be.currency == f.currency
    count = func.count().filter(is_order)
    revenue = func.coalesce(
        func.sum(be.amount_minor).filter(is_order, in_currency), 0
    ) - func.coalesce(func.sum(be.amount_minor).filter(be.type == REFUND, in_currency), 0)
    last = func.max(be.occurred_at).filter(is_order)
    bounds = _order_bounds(f, count, revenue, last)
    if not bounds:
        return true()
    types = be.type.in_((ORDER, REFUND)) if _uses_revenue(f) else is_order
    grouped = select(be.contact_id).where(be.tenant_id == tenant_id, types).group_by(be.contact_id)
    if f.holds_without_orders():
        # Count and revenue only (never NULL): keep all but those the bounds exclude.
        return who.not_in(grouped.having(not_(and_(*bounds))))
    return who.in_(grouped.having(and_(*bounds)))


def _orders_of(tenant_id: str, f: OrderFilter, who: Who) -> ColumnElement[bool]:
    """The order bounds on the contact's own orders (lookups in its index entries): for
    candidates other conditions already picked."""
    be = business_events.c
    own = [be.tenant_id == tenant_id, be.contact_id == who]
    count = select(func.count()).where(*own, be.type == ORDER).scalar_subquery()
    signed = case((be.type == REFUND, -be.amount_minor), else_=be.amount_minor)
    revenue = (
        select(func.coalesce(func.sum(signed), 0))
        .where(*own, be.type.in_((ORDER, REFUND)), be.currency == f.currency)
        .scalar_subquery()
    )
    last = select(func.max(be.occurred_at)).where(*own, be.type == ORDER).scalar_subquery()
    bounds = _order_bounds(f, count, revenue, last)
    return and_(*bounds) if bounds else true()


_COMPARE = {
    AttributeOp.EQ: operator.eq,
    AttributeOp.NE: operator.ne,
    AttributeOp.GT: operator.gt,
    AttributeOp.GTE: operator.ge,
    AttributeOp.LT: operator.lt,
    AttributeOp.LTE: operator.le,
}


def _attribute(f: AttributeCondition, who: Who) -> ColumnElement[bool]:
    """The contact has the attribute (``set``), has not (``unset``), or its value compares
    (``ne``: has a value and it differs), in the column of the attribute's type."""
    has = exists().where(
        contact_attributes.c.contact_id == who, contact_attributes.c.name == f.name
    )
    if f.op is AttributeOp.SET:
        return has
    if f.op is AttributeOp.UNSET:
        return not_(has)
    column = contact_attributes.c[VALUE_COLUMNS[f.type]]
    if f.op is AttributeOp.CONTAINS:
        return has.where(func.lower(column).like(like_pattern(str(f.value).lower()), escape="\\"))
    return has.where(_COMPARE[f.op](column, literal(f.value, column.type)))


def _row(tenant_id: str, f: Filter, who: Who) -> list[ColumnElement[bool]]:
    """A filter on the contact's own row and its tags, consents and messages."""
    match f:
        case TagFilter():
            return _tags(tenant_id, f, who)
        case ChannelFilter(local_ids=local_ids):
            ids = select(channels.c.id).where(
                channels.c.tenant_id == tenant_id, channels.c.local_id.in_(local_ids)
            )
            return [c.channel_id.in_(ids)]
        case ConsentFilter(topic=topic):
            consented = exists().where(
                consents.c.contact_id == who,
                consents.c.status == ConsentStatus.ACTIVE.value,
                consents.c.topic == topic,
            )
            return [consented, c.opted_out_at.is_(None)]
        case SourceFilter(sources=sources):
            return [c.source.in_(sources)]
        case InboundFilter(since=since, present=present):
            wrote = _inbound(who, messages.c.created_at >= since)
            return [wrote if present else not_(wrote)]
        case AttributeCondition():
            return [_attribute(f, who)]
        case AttributeFilter():  # pragma: no cover - resolve types every attribute condition
            raise AssertionError("an attribute condition reached storage untyped")
    raise AssertionError(f)  # pragma: no cover (only row filters come here)


def _per_contact(
    tenant_id: str, f: Filter, who: Who, *, ranged: bool = False
) -> list[ColumnElement[bool]]:
    """Any filter as lookups of the one contact ``who`` (a candidate, or inside ``any_of``).

    ``ranged``: a first-seen range with a start was already required of ``who``
    (:func:`_first_seen_range`); only "no activity before it" is left to check.
    """
    match f:
        case FirstSeenFilter(start=start, end=end):
            parts = [] if ranged and start is not None else [_active(tenant_id, who, start, end)]
            if start is not None:
                parts.append(not_(_active(tenant_id, who, None, start)))
            return parts
        case OrderFilter():
            return [_orders_of(tenant_id, f, who)]
        case AnyFilter(filters=filters):
            return [or_(*(and_(*_per_contact(tenant_id, g, who)) for g in filters))]
    return _row(tenant_id, f, who)


def _is_row(f: Filter) -> bool:
    """Whether ``f`` reads only the contact's row, tags, consents and messages."""
    if isinstance(f, AnyFilter):
        return all(_is_row(g) for g in f.filters)
    return not isinstance(f, OrderFilter | FirstSeenFilter)


def _picks(f: Filter) -> bool:
    """Whether ``f`` is a small set of contacts found through an index of its own (a tag,
    a consent topic, recent inbound messages, a first-seen range): one worth starting from."""
    match f:
        case TagFilter(all=every, any=some):
            return bool(every or some)
        case ConsentFilter() | FirstSeenFilter(start=datetime()):
            return True
        case InboundFilter(present=present):
            return present
    return False


def _first_seen_range(tenant_id: str, f: Filter, who: Who) -> list[ColumnElement[bool]]:
    if isinstance(f, FirstSeenFilter) and f.start is not None:
        return [_active_in(tenant_id, who, f.start, f.end)]
    return []


@dataclass(frozen=True, slots=True)
class _Members:
    """The members as a FROM clause (``source``) with their id column and conditions."""

    source: FromClause
    who: Who
    where: list[ColumnElement[bool]]


def members(query: SegmentQuery, *, only: str | None = None) -> _Members:
    """How to select the query's members, in one statement.

    When a condition picks a small set of contacts through an index of its own
    (:func:`_picks`), the contacts passing every row condition are the
    candidates (a MATERIALIZED CTE), and order facts and first seen are then
    looked up for the candidates only. Otherwise the conditions apply to every
    contact of the tenant, order facts through one aggregate grouped by contact.
    Both forms select the same contacts (the contract tests run each case both ways).
    ``only``: the one contact to consider (membership of one contact).
    """
    tenant_id = query.tenant_id
    rows = [f for f in query.filters if _is_row(f)]
    later = [f for f in query.filters if not _is_row(f)]
    where: list[ColumnElement[bool]] = [c.tenant_id == tenant_id]
    if only is not None:
        where.append(c.id == only)
    for f in rows:
        where += _per_contact(tenant_id, f, c.id)
    for f in later:
        where += _first_seen_range(tenant_id, f, c.id)
    if not later:
        return _Members(contacts, c.id, where)
    if only is not None or any(_picks(f) for f in query.filters):
        candidates = select(c.id.label("id")).where(*where).cte("candidates")
        candidates = candidates.prefix_with("MATERIALIZED")
        who: Who = candidates.c.id
        then: list[ColumnElement[bool]] = []
        for f in later:
            then += _per_contact(tenant_id, f, who, ranged=True)
        return _Members(candidates, who, then)
    for f in later:
        if isinstance(f, OrderFilter):
            where.append(_orders_grouped(tenant_id, f, c.id))
        else:
            where += _per_contact(tenant_id, f, c.id, ranged=True)
    return _Members(contacts, c.id, where)


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
        members(query)

    async def count(self, query: SegmentQuery) -> int:
        found = members(query)
        statement: Select[Any] = select(func.count()).select_from(found.source).where(*found.where)
        return int((await self._conn.execute(statement)).scalar_one())

    async def sample(self, query: SegmentQuery, limit: int) -> list[SegmentMember]:
        found = members(query)
        ids = select(found.who.label("id")).select_from(found.source).where(*found.where)
        chosen = ids.order_by(found.who).limit(limit).subquery("chosen")
        statement = (
            select(c.id, c.display_name, channels.c.local_id)
            .select_from(
                chosen.join(contacts, c.id == chosen.c.id).join(
                    channels, channels.c.id == c.channel_id
                )
            )
            .order_by(c.id)
        )
        rows = await self._conn.execute(statement)
        return [SegmentMember(r[0], r[1], r[2]) for r in rows]

    async def has_member(self, query: SegmentQuery, contact_id: str) -> bool:
        found = members(query, only=contact_id)
        statement = select(found.who).select_from(found.source).where(*found.where).limit(1)
        return (await self._conn.execute(statement)).first() is not None

    async def member_ids(self, query: SegmentQuery, after: str | None, limit: int) -> list[str]:
        found = members(query)
        where = list(found.where)
        if after is not None:
            where.append(found.who > after)
        statement = (
            select(found.who)
            .select_from(found.source)
            .where(*where)
            .order_by(found.who)
            .limit(limit)
        )
        return [r[0] for r in await self._conn.execute(statement)]
