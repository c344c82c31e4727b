"""SQL repositories for messages and the outbox."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, func, insert, select, true, update

from kindbot.core.events import InboundEvent
from kindbot.core.records.conversations import (
    ConversationActivity,
    ConversationState,
    Direction,
    FinishedInbound,
    InboundStatus,
    MessageRecord,
)
from kindbot.storage.executor import Executor
from kindbot.storage.message_path import FINISH, activity_of, finish_parameters
from kindbot.storage.schema import messages
from kindbot.storage.sqlutil import (
    insert_returning_unless_conflict,
    key_digest,
    new_id,
    supports_row_locks,
)

DELIVERED = "delivered"
PENDING = "pending"

# Statements on the per-message path are built once; values are bound at
# execution, so SQLAlchemy's compiled cache serves every call.
_INBOUND_BY_KEY = select(messages).where(
    messages.c.channel_id == bindparam("channel_id"),
    messages.c.idempotency_key == bindparam("idempotency_key"),
)
_BY_ID = select(messages).where(messages.c.id == bindparam("message_id"))
_BY_ID_LOCKED = _BY_ID.with_for_update()
_SET_STATUS = (
    update(messages)
    .where(messages.c.id == bindparam("message_id"))
    .values(status=bindparam("new_status"))
)
_SET_PROCESSED = (
    update(messages)
    .where(messages.c.id == bindparam("message_id"))
    .values(status=InboundStatus.PROCESSED.value, kb_asked=bindparam("kb_asked"))
)
_INSERT = insert(messages)
_OUTBOUND = messages.c.direction == Direction.OUTBOUND.value
_RECENT_OUTBOUND_TEXTS = (
    select(messages.c.text)
    .where(messages.c.conversation_id == bindparam("conversation_id"), _OUTBOUND)
    .order_by(messages.c.seq.desc())
    .limit(bindparam("limit"))
)
_LAST_INBOUND = (
    select(messages.c.seq, messages.c.created_at, messages.c.kind)
    .where(
        messages.c.conversation_id == bindparam("conversation_id"),
        messages.c.direction == Direction.INBOUND.value,
    )
    .order_by(messages.c.seq.desc())
    .limit(1)
)


def _counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


_LAST_INBOUND_ROW = _LAST_INBOUND.subquery("last_inbound")
_OUTBOUND_COUNTS = (
    select(
        func.count(),
        _counted(
            messages.c.seq > func.coalesce(select(_LAST_INBOUND_ROW.c.seq).scalar_subquery(), 0)
        ),
        _counted(messages.c.created_at >= bindparam("since")),
        _counted(messages.c.reply_to_id == bindparam("reply_to_id")),
    )
    .where(messages.c.conversation_id == bindparam("conversation_id"), _OUTBOUND)
    .subquery("outbound_counts")
)
_ACTIVITY = select(
    *_OUTBOUND_COUNTS.c,
    _LAST_INBOUND_ROW.c.created_at,
    _LAST_INBOUND_ROW.c.kind,
).select_from(_OUTBOUND_COUNTS.outerjoin(_LAST_INBOUND_ROW, true()))
"""The guard's facts about a conversation in one statement: the outbound counts
(in all, since the last inbound message, since a time, answering a message) and
the last inbound message's time and kind."""
_REPLIES_TO = (
    select(messages)
    .where(messages.c.reply_to_id == bindparam("message_id"))
    .order_by(messages.c.seq)
)


def _message(row: Any) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        channel_id=row.channel_id,
        conversation_id=row.conversation_id,
        contact_id=row.contact_id,
        direction=Direction(row.direction),
        kind=row.kind,
        text=row.text,
        created_at=row.created_at,
        idempotency_key=row.idempotency_key,
        status=row.status,
        reply_to_id=row.reply_to_id,
        generated=row.generated,
        event=row.event,
        event_key=row.event_key,
        source_entry_ids=(
            tuple(json.loads(row.source_entry_ids_json)) if row.source_entry_ids_json else ()
        ),
    )


class SqlMessages:
    """:class:`kindbot.core.ports.seams.MessageRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def insert_inbound(
        self,
        *,
        event: InboundEvent,
        tenant_id: str,
        channel_id: str,
        contact_id: str,
        conversation_id: str,
    ) -> tuple[MessageRecord, bool]:
        row = await insert_returning_unless_conflict(
            self._conn,
            messages,
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "channel_id": channel_id,
                "conversation_id": conversation_id,
                "contact_id": contact_id,
                "direction": Direction.INBOUND.value,
                "kind": event.kind.value,
                "text": event.text,
                "created_at": event.received_at,
                "idempotency_key": key_digest(event.idempotency_key),
                "status": InboundStatus.RECEIVED.value,
                "reply_to_id": None,
                "generated": False,
                "event": event.event,
                "event_key": event.event_key,
            },
            ["channel_id", "idempotency_key"],
        )
        if row is not None:
            return _message(row), True
        found = await self.find_inbound(channel_id, event.idempotency_key)
        assert found is not None
        return found, False

    async def find_inbound(self, channel_id: str, idempotency_key: str) -> MessageRecord | None:
        params = {"channel_id": channel_id, "idempotency_key": key_digest(idempotency_key)}
        row = (await self._conn.execute(_INBOUND_BY_KEY, params)).first()
        return _message(row) if row else None

    async def lock_inbound(self, message_id: str) -> MessageRecord:
        query = _BY_ID_LOCKED if supports_row_locks(self._conn) else _BY_ID
        return _message((await self._conn.execute(query, {"message_id": message_id})).one())

    async def finish_inbound(
        self, message: MessageRecord, *, kb_asked: bool, since: datetime
    ) -> FinishedInbound | None:
        params = finish_parameters(
            message.id,
            kb_asked=kb_asked,
            conversation_id=message.conversation_id,
            contact_id=message.contact_id,
            since=since,
        )
        row = (await self._conn.execute(FINISH, params)).first()
        if row is None:
            return None
        return FinishedInbound(
            message=_message(row),
            conversation_state=ConversationState(row.conversation_state),
            rating_conversation_id=row.rating_conversation_id,
            activity=activity_of(row),
        )

    async def mark_processed(self, message_id: str, *, kb_asked: bool = False) -> None:
        params = {"message_id": message_id, "kb_asked": kb_asked}
        await self._conn.execute(_SET_PROCESSED, params)

    async def insert_outbound(
        self,
        *,
        tenant_id: str,
        channel_id: str,
        contact_id: str,
        conversation_id: str,
        text: str,
        reply_to_id: str | None,
        generated: bool,
        now: datetime,
        source_entry_ids: Sequence[str] = (),
        origin: str | None = None,
    ) -> MessageRecord:
        message_id = new_id()
        sources = tuple(source_entry_ids)
        values = {
            "id": message_id,
            "tenant_id": tenant_id,
            "channel_id": channel_id,
            "conversation_id": conversation_id,
            "contact_id": contact_id,
            "direction": Direction.OUTBOUND.value,
            "kind": "text",
            "text": text,
            "created_at": now,
            "idempotency_key": None,
            "status": PENDING,
            "reply_to_id": reply_to_id,
            "generated": generated,
            "source_entry_ids_json": json.dumps(list(sources)) if sources else None,
            "origin": origin,
        }
        await self._conn.execute(_INSERT, values)
        return MessageRecord(
            id=message_id,
            tenant_id=tenant_id,
            channel_id=channel_id,
            conversation_id=conversation_id,
            contact_id=contact_id,
            direction=Direction.OUTBOUND,
            kind="text",
            text=text,
            created_at=now,
            idempotency_key=None,
            status=PENDING,
            reply_to_id=reply_to_id,
            generated=generated,
            source_entry_ids=sources,
        )

    async def count_outbound(self, conversation_id: str) -> int:
        query = select(func.count()).where(
            messages.c.conversation_id == conversation_id,
            messages.c.direction == Direction.OUTBOUND.value,
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def recent_outbound_texts(self, conversation_id: str, limit: int) -> list[str]:
        params = {"conversation_id": conversation_id, "limit": limit}
        return [row.text for row in await self._conn.execute(_RECENT_OUTBOUND_TEXTS, params)]

    async def activity(
        self, conversation_id: str, *, reply_to_id: str | None, since: datetime
    ) -> ConversationActivity:
        params = {"conversation_id": conversation_id, "since": since, "reply_to_id": reply_to_id}
        row = (await self._conn.execute(_ACTIVITY, params)).one()
        return ConversationActivity(
            outbound_total=int(row[0]),
            last_inbound_at=row.created_at,
            last_inbound_kind=row.kind,
            outbound_since_inbound=int(row[1]),
            outbound_since=int(row[2]),
            replies_to=int(row[3]) if reply_to_id else 0,
        )

    async def history(self, conversation_id: str, limit: int) -> list[MessageRecord]:
        query = (
            select(messages)
            .where(messages.c.conversation_id == conversation_id)
            .order_by(messages.c.seq.desc())
            .limit(limit)
        )
        rows = [_message(r) for r in await self._conn.execute(query)]
        rows.reverse()
        return rows

    async def history_for_contact(self, contact_id: str, limit: int) -> list[MessageRecord]:
        query = (
            select(messages)
            .where(messages.c.contact_id == contact_id)
            .order_by(messages.c.seq.desc())
            .limit(limit)
        )
        rows = [_message(r) for r in await self._conn.execute(query)]
        rows.reverse()
        return rows

    async def replies_to(self, message_id: str) -> list[MessageRecord]:
        rows = await self._conn.execute(_REPLIES_TO, {"message_id": message_id})
        return [_message(r) for r in rows]

    async def unprocessed_inbound(self, before: datetime, limit: int) -> list[MessageRecord]:
        query = (
            select(messages)
            .where(
                messages.c.direction == Direction.INBOUND.value,
                messages.c.status == InboundStatus.RECEIVED.value,
                messages.c.created_at < before,
            )
            .order_by(messages.c.seq)
            .limit(limit)
        )
        return [_message(r) for r in await self._conn.execute(query)]
