"""A contact's timeline over SQL (``tx.timeline``): one ``UNION ALL`` of every table
that records something of the contact, ordered and paginated by (time, kind, id).

Each branch reads one table through a contact index (messages, consents,
handoffs, business events, deferred sends; notes through the contact's
conversations) and yields the same eight columns; :func:`_item` turns a row
into its typed record.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)

from kindbot.core.records.directory import (
    ConsentItem,
    EventItem,
    HandoffItem,
    MessageItem,
    NoteItem,
    OptOutItem,
    ProactiveSendItem,
    TimelineCursor,
    TimelineItem,
    TimelineKind,
)
from kindbot.storage.executor import Executor
from kindbot.storage.schema import (
    UTCDateTime,
    agents,
    business_events,
    consents,
    contacts,
    conversation_notes,
    conversations,
    deferred_sends,
    handoffs,
    messages,
    outbox,
)


def _kind(kind: TimelineKind) -> ColumnElement[str]:
    return cast(literal(kind.value), String(32))


def _none(kind: Any) -> ColumnElement[Any]:
    return cast(null(), kind)


def _branch(
    at: ColumnElement[Any],
    kind: TimelineKind | ColumnElement[str],
    item_id: ColumnElement[Any],
    *,
    ref: ColumnElement[Any] | None = None,
    text: ColumnElement[Any] | None = None,
    label: ColumnElement[Any] | None = None,
    extra: ColumnElement[Any] | None = None,
    number: ColumnElement[Any] | None = None,
) -> Select[Any]:
    """One table's items in the shared eight columns (missing ones typed NULLs)."""
    return select(
        type_coerce(at, UTCDateTime).label("at"),
        (_kind(kind) if isinstance(kind, TimelineKind) else kind).label("kind"),
        cast(item_id, String(200)).label("item_id"),
        cast(ref, String(200)).label("ref") if ref is not None else _none(String(200)).label("ref"),
        cast(text, Text).label("text") if text is not None else _none(Text).label("text"),
        cast(label, String(254)).label("label")
        if label is not None
        else _none(String(254)).label("label"),
        cast(extra, Text).label("extra") if extra is not None else _none(Text).label("extra"),
        cast(number, BigInteger).label("number")
        if number is not None
        else _none(BigInteger).label("number"),
    )


def _branches(tenant_id: str, contact_id: str) -> list[Select[Any]]:
    m, o = messages.c, outbox.c
    message_kind = case(
        (m.direction == "inbound", _kind(TimelineKind.MESSAGE_IN)),
        else_=_kind(TimelineKind.MESSAGE_OUT),
    )
    said = (
        _branch(
            m.created_at,
            message_kind,
            m.id,
            ref=m.conversation_id,
            text=m.text,
            label=case((o.status.is_not(None), o.status), else_=m.status),
            number=case((m.generated == True, 1), else_=0),  # noqa: E712  (SQL, not Python)
        )
        .select_from(messages.outerjoin(outbox, o.message_id == m.id))
        .where(m.contact_id == contact_id)
    )
    c = consents.c
    granted = _branch(
        c.granted_at,
        TimelineKind.CONSENT_GRANTED,
        c.id,
        text=c.wording,
        label=c.topic,
        extra=c.source,
    ).where(c.contact_id == contact_id)
    withdrawn = _branch(
        c.withdrawn_at,
        TimelineKind.CONSENT_WITHDRAWN,
        c.id,
        text=c.wording,
        label=c.topic,
        extra=c.source,
    ).where(c.contact_id == contact_id, c.withdrawn_at.is_not(None))
    opted_out = _branch(contacts.c.opted_out_at, TimelineKind.OPT_OUT, contacts.c.id).where(
        contacts.c.id == contact_id, contacts.c.opted_out_at.is_not(None)
    )
    h = handoffs.c
    requested = _branch(h.requested_at, TimelineKind.HANDOFF_REQUESTED, h.conversation_id).where(
        h.contact_id == contact_id
    )
    claimed = (
        _branch(h.assigned_at, TimelineKind.HANDOFF_CLAIMED, h.conversation_id, label=agents.c.name)
        .select_from(handoffs.outerjoin(agents, agents.c.id == h.agent_id))
        .where(h.contact_id == contact_id, h.assigned_at.is_not(None))
    )
    resolved = (
        _branch(
            h.resolved_at,
            TimelineKind.HANDOFF_RESOLVED,
            h.conversation_id,
            label=agents.c.name,
            number=h.rating,
        )
        .select_from(handoffs.outerjoin(agents, agents.c.id == h.agent_id))
        .where(h.contact_id == contact_id, h.resolved_at.is_not(None))
    )
    e = business_events.c
    events = _branch(
        e.occurred_at,
        TimelineKind.EVENT,
        e.event_id,
        ref=e.order_id,
        label=e.type,
        extra=e.currency,
        number=e.amount_minor,
    ).where(e.tenant_id == tenant_id, e.contact_id == contact_id)
    d = deferred_sends.c
    held = _branch(
        d.created_at,
        TimelineKind.PROACTIVE_SEND,
        d.id,
        ref=d.broadcast_id,
        text=d.text,
        label=d.status,
        extra=d.topic,
    ).where(d.contact_id == contact_id)
    n = conversation_notes.c
    their_conversations = select(conversations.c.id).where(
        conversations.c.channel_id
        == select(contacts.c.channel_id).where(contacts.c.id == contact_id).scalar_subquery(),
        conversations.c.contact_id == contact_id,
    )
    notes = _branch(
        n.created_at, TimelineKind.NOTE, n.id, ref=n.conversation_id, text=n.text, label=n.author
    ).where(n.tenant_id == tenant_id, n.conversation_id.in_(their_conversations))
    return [said, granted, withdrawn, opted_out, requested, claimed, resolved, events, held, notes]


def _before(items: Any, cursor: TimelineCursor) -> ColumnElement[bool]:
    at = literal(cursor.at, UTCDateTime)
    kind = literal(cursor.kind.value, String(32))
    return or_(
        items.c.at < at,
        and_(
            items.c.at == at,
            or_(
                items.c.kind < kind,
                and_(items.c.kind == kind, items.c.item_id < cursor.item_id),
            ),
        ),
    )


def _item(row: Any) -> TimelineItem:
    kind = TimelineKind(row.kind)
    at, item_id = row.at, row.item_id
    if kind in (TimelineKind.MESSAGE_IN, TimelineKind.MESSAGE_OUT):
        return MessageItem(at, kind, item_id, row.ref, row.text, row.label, bool(row.number))
    if kind in (TimelineKind.CONSENT_GRANTED, TimelineKind.CONSENT_WITHDRAWN):
        return ConsentItem(at, kind, item_id, row.label, row.text, row.extra)
    if kind is TimelineKind.OPT_OUT:
        return OptOutItem(at, kind, item_id)
    if kind is TimelineKind.EVENT:
        return EventItem(at, kind, item_id, row.label, row.number, row.extra, row.ref)
    if kind is TimelineKind.PROACTIVE_SEND:
        return ProactiveSendItem(at, kind, item_id, row.extra, row.label, row.ref, row.text)
    if kind is TimelineKind.NOTE:
        return NoteItem(at, kind, item_id, row.ref, row.label, row.text)
    rating = row.number if kind is TimelineKind.HANDOFF_RESOLVED else None
    return HandoffItem(at, kind, item_id, row.label, None if rating is None else int(rating))


class SqlTimeline:
    """:class:`kindbot.core.ports.directory.TimelineRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def page(
        self, tenant_id: str, contact_id: str, before: TimelineCursor | None, limit: int
    ) -> list[TimelineItem]:
        items = union_all(*_branches(tenant_id, contact_id)).subquery("items")
        query = select(items)
        if before is not None:
            query = query.where(_before(items, before))
        query = query.order_by(items.c.at.desc(), items.c.kind.desc(), items.c.item_id.desc())
        return [_item(row) for row in await self._conn.execute(query.limit(limit))]
