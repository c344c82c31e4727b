"""The contact list over SQL (``tx.directory``): filters, sort and keyset pagination
in one statement on SQLite and PostgreSQL, then one more for the page's tags.

Per contact, correlated subqueries read its latest inbound message
(``ix_messages_contact_direction_at``), its latest business event, its order count
and its revenue (``ix_business_events_tenant_contact_at_type``), so a page costs
index lookups per candidate contact, never a scan of the tenant's history.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    type_coerce,
    union_all,
)

from kindbot.core.records.directory import (
    NEVER_ACTIVE,
    AttributeCondition,
    AttributeOp,
    ContactCursor,
    ContactFilter,
    ContactSearch,
    ContactSort,
    DirectoryRow,
)
from kindbot.storage.executor import Executor
from kindbot.storage.repos_attributes import VALUE_COLUMNS
from kindbot.storage.schema import (
    UTCDateTime,
    business_events,
    channels,
    contact_attributes,
    contact_tags,
    contacts,
    messages,
)

ORDER = "order"
REFUND = "refund"


def like_pattern(text: str) -> str:
    """``%text%`` for ``LIKE … ESCAPE '\\'``, with the text's own wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _stats(search: ContactSearch) -> Select[Any]:
    """One row per contact that passes the contact-level filters, with its figures."""
    tenant_id = search.tenant_id
    events = business_events.c
    mine = and_(events.tenant_id == tenant_id, events.contact_id == contacts.c.id)
    # One scalar subquery: the later of the latest inbound message and the latest event
    # (MAX ignores the NULL of a side without rows); each side is one index lookup.
    latest = union_all(
        select(func.max(messages.c.created_at).label("at"))
        .where(messages.c.contact_id == contacts.c.id, messages.c.direction == "inbound")
        .correlate(contacts),
        select(func.max(events.occurred_at).label("at")).where(mine).correlate(contacts),
    ).subquery("latest")
    last_active = type_coerce(select(func.max(latest.c.at)).scalar_subquery(), UTCDateTime).label(
        "last_active"
    )
    orders = select(func.count()).where(mine, events.type == ORDER).scalar_subquery()
    signed = case((events.type == REFUND, -events.amount_minor), else_=events.amount_minor)
    revenue = (
        select(cast(func.coalesce(func.sum(signed), 0), BigInteger))
        .where(
            mine,
            events.type.in_((ORDER, REFUND)),
            events.currency == search.currency,
            events.amount_minor.is_not(None),
        )
        .scalar_subquery()
    )
    query = (
        select(
            contacts.c.id,
            channels.c.local_id.label("channel"),
            contacts.c.external_id,
            contacts.c.display_name,
            contacts.c.created_at,
            contacts.c.source,
            last_active,
            orders.label("orders"),
            revenue.label("revenue"),
        )
        .select_from(contacts.join(channels, channels.c.id == contacts.c.channel_id))
        .where(contacts.c.tenant_id == tenant_id)
    )
    return query.where(*_contact_conditions(search.filter))


def _contact_conditions(wanted: ContactFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if wanted.text:
        pattern = like_pattern(wanted.text.lower())
        conditions.append(
            or_(
                func.lower(contacts.c.display_name).like(pattern, escape="\\"),
                func.lower(contacts.c.external_id).like(pattern, escape="\\"),
            )
        )
    if wanted.channel is not None:
        conditions.append(channels.c.local_id == wanted.channel)
    for tag in wanted.tags:
        conditions.append(
            exists().where(contact_tags.c.contact_id == contacts.c.id, contact_tags.c.tag == tag)
        )
    conditions += [_attribute_condition(c) for c in wanted.attributes]
    return conditions


_COMPARE = {
    AttributeOp.EQ: operator.eq,
    AttributeOp.NE: operator.ne,
    AttributeOp.GT: operator.gt,
    AttributeOp.GTE: operator.ge,
    AttributeOp.LT: operator.lt,
    AttributeOp.LTE: operator.le,
}


def _attribute_condition(condition: AttributeCondition) -> ColumnElement[bool]:
    has = exists().where(
        contact_attributes.c.contact_id == contacts.c.id,
        contact_attributes.c.name == condition.name,
    )
    if condition.op is AttributeOp.SET:
        return has
    if condition.op is AttributeOp.UNSET:
        return not_(has)
    column = contact_attributes.c[VALUE_COLUMNS[condition.type]]
    value = condition.value
    if condition.op is AttributeOp.CONTAINS:
        return has.where(func.lower(column).like(like_pattern(str(value).lower()), escape="\\"))
    return has.where(_COMPARE[condition.op](column, literal(value, column.type)))


def _sort_key(sort: ContactSort, page: Subquery) -> ColumnElement[Any]:
    if sort is ContactSort.LAST_ACTIVE:
        return func.coalesce(page.c.last_active, literal(NEVER_ACTIVE, UTCDateTime))
    if sort is ContactSort.CREATED:
        return page.c.created_at
    if sort is ContactSort.ORDERS:
        return page.c.orders
    if sort is ContactSort.REVENUE:
        return page.c.revenue
    return func.coalesce(func.nullif(page.c.display_name, ""), page.c.external_id)


ASCENDING = frozenset({ContactSort.NAME})
"""Orders that run A → Z; the others show the most (latest, largest) first."""


def _after(
    key: ColumnElement[Any], row_id: ColumnElement[Any], cursor: ContactCursor
) -> ColumnElement[bool]:
    """Rows strictly after ``cursor`` in (key, id) order."""
    value = literal(cursor.value, key.type)
    if cursor.sort in ASCENDING:
        return or_(key > value, and_(key == value, row_id > cursor.contact_id))
    return or_(key < value, and_(key == value, row_id < cursor.contact_id))


OWN_ORDERS = frozenset({ContactSort.CREATED, ContactSort.NAME})
"""Orders of the contact's own columns: a page of them is cut before any figure is computed."""


def _own_key(sort: ContactSort) -> ColumnElement[Any]:
    """The sort key of an order in :data:`OWN_ORDERS`, on ``contacts`` itself."""
    if sort is ContactSort.CREATED:
        return contacts.c.created_at
    return func.coalesce(func.nullif(contacts.c.display_name, ""), contacts.c.external_id)


def _cut_first(search: ContactSearch) -> Select[Any]:
    """The contacts of the page, when neither its order nor its filters need their figures:
    ordered and limited on the contacts' own columns (the ``(tenant_id, created_at)``
    index), so the per-contact figures are computed for these rows only."""
    key = _own_key(search.sort)
    ascending = search.sort in ASCENDING
    query = (
        select(contacts.c.id)
        .select_from(contacts.join(channels, channels.c.id == contacts.c.channel_id))
        .where(contacts.c.tenant_id == search.tenant_id, *_contact_conditions(search.filter))
    )
    if search.after is not None:
        query = query.where(_after(key, contacts.c.id, search.after))
    return query.order_by(
        key.asc() if ascending else key.desc(),
        contacts.c.id.asc() if ascending else contacts.c.id.desc(),
    ).limit(search.limit)


def _row(row: Any, tags: tuple[str, ...]) -> DirectoryRow:
    return DirectoryRow(
        contact_id=row.id,
        channel=row.channel,
        external_id=row.external_id,
        display_name=row.display_name,
        tags=tags,
        last_active=row.last_active,
        orders=int(row.orders),
        revenue_minor=int(row.revenue),
        created_at=row.created_at,
        source=row.source,
    )


class SqlDirectory:
    """:class:`kindbot.core.ports.directory.DirectoryRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def search(self, search: ContactSearch) -> list[DirectoryRow]:
        wanted = search.filter
        figures_filter = (wanted.min_orders, wanted.min_revenue_minor, wanted.active_since)
        stats = _stats(search)
        if search.sort in OWN_ORDERS and all(f is None for f in figures_filter):
            stats = stats.where(contacts.c.id.in_(_cut_first(search)))
        page = stats.subquery("page")
        conditions: list[ColumnElement[bool]] = []
        if wanted.min_orders is not None:
            conditions.append(page.c.orders >= wanted.min_orders)
        if wanted.min_revenue_minor is not None:
            conditions.append(page.c.revenue >= wanted.min_revenue_minor)
        if wanted.active_since is not None:
            conditions.append(page.c.last_active >= wanted.active_since)
        key = _sort_key(search.sort, page)
        if search.after is not None:
            conditions.append(_after(key, page.c.id, search.after))
        ascending = search.sort in ASCENDING
        query = (
            select(page)
            .where(*conditions)
            .order_by(
                key.asc() if ascending else key.desc(),
                page.c.id.asc() if ascending else page.c.id.desc(),
            )
            .limit(search.limit)
        )
        rows = list(await self._conn.execute(query))
        tags = await self._tags([row.id for row in rows])
        return [_row(row, tuple(tags.get(row.id, ()))) for row in rows]

    async def _tags(self, contact_ids: list[str]) -> dict[str, list[str]]:
        if not contact_ids:
            return {}
        query = (
            select(contact_tags.c.contact_id, contact_tags.c.tag)
            .where(contact_tags.c.contact_id.in_(contact_ids))
            .order_by(contact_tags.c.contact_id, contact_tags.c.tag)
        )
        found: dict[str, list[str]] = defaultdict(list)
        for row in await self._conn.execute(query):
            found[row.contact_id].append(row.tag)
        return found
