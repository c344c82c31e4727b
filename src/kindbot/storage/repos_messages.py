"""SQL repositories for messages and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kindbot.events import InboundEvent
from kindbot.records import (
    ConversationActivity,
    Direction,
    InboundStatus,
    MessageRecord,
)
from kindbot.storage.schema import messages
from kindbot.storage.sqlutil import (
    insert_returning_unless_conflict,
    new_id,
    supports_row_locks,
)

DELIVERED = "delivered"
PENDING = "pending"


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
    )


class SqlMessages:
    """:class:`kindbot.types.MessageRepository` over SQL."""

    def __init__(self, conn: AsyncConnection) -> None:
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
                "idempotency_key": event.idempotency_key,
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
        query = select(messages).where(
            messages.c.channel_id == channel_id,
            messages.c.idempotency_key == idempotency_key,
        )
        row = (await self._conn.execute(query)).first()
        return _message(row) if row else None

    async def lock_inbound(self, message_id: str) -> MessageRecord:
        query = select(messages).where(messages.c.id == message_id)
        if supports_row_locks(self._conn):
            query = query.with_for_update()
        return _message((await self._conn.execute(query)).one())

    async def mark_processed(self, message_id: str) -> None:
        await self._conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(status=InboundStatus.PROCESSED.value)
        )

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
    ) -> MessageRecord:
        message_id = new_id()
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
        }
        await self._conn.execute(messages.insert().values(**values))
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
        )

    async def count_outbound(self, conversation_id: str) -> int:
        query = select(func.count()).where(
            messages.c.conversation_id == conversation_id,
            messages.c.direction == Direction.OUTBOUND.value,
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def recent_outbound_texts(self, conversation_id: str, limit: int) -> list[str]:
        query = (
            select(messages.c.text)
            .where(
                messages.c.conversation_id == conversation_id,
                messages.c.direction == Direction.OUTBOUND.value,
            )
            .order_by(messages.c.seq.desc())
            .limit(limit)
        )
        return [row.text for row in await self._conn.execute(query)]

    async def activity(
        self, conversation_id: str, *, reply_to_id: str | None, since: datetime
    ) -> ConversationActivity:
        last_query = (
            select(messages.c.seq, messages.c.created_at, messages.c.kind)
            .where(
                messages.c.conversation_id == conversation_id,
                messages.c.direction == Direction.INBOUND.value,
            )
            .order_by(messages.c.seq.desc())
            .limit(1)
        )
        last = (await self._conn.execute(last_query)).first()
        last_at = last.created_at if last else None
        outbound = messages.c.direction == Direction.OUTBOUND.value

        def counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        after_inbound = messages.c.seq > (last.seq if last else 0)
        counts = (
            await self._conn.execute(
                select(
                    func.count(),
                    counted(after_inbound),
                    counted(messages.c.created_at >= since),
                    counted(messages.c.reply_to_id == reply_to_id),
                ).where(messages.c.conversation_id == conversation_id, outbound)
            )
        ).one()
        return ConversationActivity(
            outbound_total=int(counts[0]),
            last_inbound_at=last_at,
            last_inbound_kind=last.kind if last else None,
            outbound_since_inbound=int(counts[1]),
            outbound_since=int(counts[2]),
            replies_to=int(counts[3]) if reply_to_id else 0,
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
        query = (
            select(messages).where(messages.c.reply_to_id == message_id).order_by(messages.c.seq)
        )
        return [_message(r) for r in await self._conn.execute(query)]

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
