"""SQL repository for the outbox: outbound messages awaiting (or past) delivery."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, tuple_, update
from sqlalchemy.sql.dml import Update

from kindbot.core.records.outbox import (
    RETRYING_CALLER,
    HandoverClaim,
    HandoverLease,
    OutboxItem,
    OutboxStatus,
)
from kindbot.storage.executor import Executor
from kindbot.storage.schema import messages, outbox, tenants
from kindbot.storage.sqlutil import new_id, supports_row_locks

DELIVERED = "delivered"

# Statements on the per-message path are built once (values bound at execution).
_INSERT = insert(outbox)
_BY_ID = select(outbox).where(outbox.c.id == bindparam("outbox_id"))
_FOR_MESSAGE = select(outbox).where(outbox.c.message_id == bindparam("message_id"))


def _hand_over_from(*statuses: OutboxStatus) -> Update:
    """Claim a row in one of ``statuses`` for a caller: ``handed_over`` under its token."""
    return (
        update(outbox)
        .where(
            outbox.c.id == bindparam("outbox_id"),
            outbox.c.status.in_([status.value for status in statuses]),
        )
        .values(
            status=OutboxStatus.HANDED_OVER.value,
            handover=bindparam("token"),
            lease_until=bindparam("lease_until"),
        )
    )


_HAND_OVER = _hand_over_from(OutboxStatus.PENDING)
_HAND_OVER_AGAIN = _hand_over_from(OutboxStatus.PENDING, OutboxStatus.HANDED_OVER)
_CONFIRM = (
    update(outbox)
    .where(
        outbox.c.id == bindparam("outbox_id"),
        outbox.c.status == OutboxStatus.HANDED_OVER.value,
        outbox.c.handover == bindparam("token"),
    )
    .values(status=OutboxStatus.DELIVERED.value, delivered_at=bindparam("at"), lease_until=None)
    .returning(outbox.c.message_id)
)
_GIVE_BACK = (
    update(outbox)
    .where(
        outbox.c.id == bindparam("outbox_id"),
        outbox.c.status == OutboxStatus.HANDED_OVER.value,
        outbox.c.handover == bindparam("token"),
    )
    .values(
        status=OutboxStatus.PENDING.value,
        handover=None,
        lease_until=None,
        next_attempt_at=bindparam("now"),
    )
)
# Many claims at once (group commit): ``(id, handover) IN ((…), …)``, still
# conditional on each row being held by its own claim's token.
_HELD_BY_CLAIM = and_(
    outbox.c.status == OutboxStatus.HANDED_OVER.value,
    tuple_(outbox.c.id, outbox.c.handover).in_(bindparam("claims", expanding=True)),
)
_CONFIRM_MANY = (
    update(outbox)
    .where(_HELD_BY_CLAIM)
    .values(status=OutboxStatus.DELIVERED.value, delivered_at=bindparam("at"), lease_until=None)
    .returning(outbox.c.message_id)
)
_GIVE_BACK_MANY = (
    update(outbox)
    .where(_HELD_BY_CLAIM)
    .values(
        status=OutboxStatus.PENDING.value,
        handover=None,
        lease_until=None,
        next_attempt_at=bindparam("now"),
    )
)
_MESSAGES_DELIVERED = (
    update(messages)
    .where(messages.c.id.in_(bindparam("message_ids", expanding=True)))
    .values(status=DELIVERED)
)
_RELEASE = (
    update(outbox)
    .where(outbox.c.id == bindparam("outbox_id"), outbox.c.status == OutboxStatus.PENDING.value)
    .values(next_attempt_at=bindparam("now"))
)
_MESSAGE_DELIVERED = (
    update(messages).where(messages.c.id == bindparam("message_id")).values(status=DELIVERED)
)


_TENANT_REVISION = (
    select(tenants.c.revision)
    .where(tenants.c.id == outbox.c.tenant_id)
    .scalar_subquery()
    .label("tenant_revision")
)
"""An outbox row's tenant's revision, read with the claimed rows (the worker's cache check)."""


def _item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        tenant_id=row.tenant_id,
        channel_id=row.channel_id,
        contact_id=row.contact_id,
        message_id=row.message_id,
        text=row.text,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        handover=row.handover,
    )


class SqlOutbox:
    """:class:`kindbot.core.ports.outbox.OutboxRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def enqueue(
        self,
        *,
        tenant_id: str,
        channel_id: str,
        contact_id: str,
        message_id: str,
        text: str,
        not_before: datetime,
        now: datetime,
        handover: HandoverLease | None = None,
    ) -> OutboxItem:
        status = OutboxStatus.PENDING if handover is None else OutboxStatus.HANDED_OVER
        item = OutboxItem(
            id=new_id(),
            tenant_id=tenant_id,
            channel_id=channel_id,
            contact_id=contact_id,
            message_id=message_id,
            text=text,
            status=status,
            attempts=0,
            next_attempt_at=not_before,
            last_error=None,
            created_at=now,
            delivered_at=None,
            handover=handover.token if handover is not None else None,
        )
        await self._conn.execute(
            _INSERT,
            {
                "id": item.id,
                "tenant_id": tenant_id,
                "channel_id": channel_id,
                "contact_id": contact_id,
                "message_id": message_id,
                "text": text,
                "status": item.status.value,
                "attempts": 0,
                "next_attempt_at": not_before,
                "lease_until": handover.until if handover is not None else None,
                "last_error": None,
                "created_at": now,
                "delivered_at": None,
                "handover": item.handover,
            },
        )
        return item

    async def _get(self, outbox_id: str) -> OutboxItem:
        return _item((await self._conn.execute(_BY_ID, {"outbox_id": outbox_id})).one())

    async def for_message(self, message_id: str) -> OutboxItem | None:
        row = (await self._conn.execute(_FOR_MESSAGE, {"message_id": message_id})).first()
        return _item(row) if row else None

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxItem]:
        due = or_(
            and_(outbox.c.status == OutboxStatus.PENDING.value, outbox.c.next_attempt_at <= now),
            and_(
                outbox.c.status.in_([OutboxStatus.SENDING.value, OutboxStatus.HANDED_OVER.value]),
                outbox.c.lease_until <= now,
            ),
        )
        query = select(outbox.c.id).where(due).order_by(outbox.c.next_attempt_at).limit(limit)
        if supports_row_locks(self._conn):
            query = query.with_for_update(skip_locked=True)
        ids = [r.id for r in await self._conn.execute(query)]
        if not ids:
            return []
        # ``due`` again in the UPDATE: a caller's hand-over that won the row
        # in between keeps it (re-evaluated after a row lock on PostgreSQL).
        claimed = await self._conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids), due)
            .values(
                status=OutboxStatus.SENDING.value,
                lease_until=lease_until,
                handover=None,
                attempts=outbox.c.attempts + 1,
            )
            .returning(outbox.c.id)
        )
        claimed_ids = [r.id for r in claimed]
        if not claimed_ids:
            return []
        rows = await self._conn.execute(
            select(outbox, _TENANT_REVISION)
            .where(outbox.c.id.in_(claimed_ids))
            .order_by(outbox.c.next_attempt_at)
        )
        return [replace(_item(r), tenant_revision=r.tenant_revision) for r in rows]

    async def mark_delivered(self, outbox_id: str, at: datetime) -> None:
        item = await self._get(outbox_id)
        # The status check is in the UPDATE itself so that it is re-evaluated
        # after waiting for a concurrent writer's row lock (PostgreSQL).
        result = await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id, outbox.c.status != OutboxStatus.DELIVERED.value)
            .values(status=OutboxStatus.DELIVERED.value, delivered_at=at, lease_until=None)
        )
        if not result.rowcount:
            return
        await self._conn.execute(_MESSAGE_DELIVERED, {"message_id": item.message_id})

    async def hand_over(
        self, outbox_id: str, *, token: str, lease_until: datetime, again: bool
    ) -> bool:
        params = {"outbox_id": outbox_id, "token": token, "lease_until": lease_until}
        result = await self._conn.execute(_HAND_OVER_AGAIN if again else _HAND_OVER, params)
        return bool(result.rowcount)

    async def confirm_handover(self, outbox_id: str, token: str, at: datetime) -> bool:
        params = {"outbox_id": outbox_id, "token": token, "at": at}
        confirmed = (await self._conn.execute(_CONFIRM, params)).first()
        if confirmed is None:
            return False
        await self._conn.execute(_MESSAGE_DELIVERED, {"message_id": confirmed.message_id})
        return True

    async def confirm_handovers(self, claims: Sequence[HandoverClaim], at: datetime) -> int:
        if not claims:
            return 0
        params = {"claims": _pairs(claims), "at": at}
        confirmed = [r.message_id for r in await self._conn.execute(_CONFIRM_MANY, params)]
        if confirmed:
            await self._conn.execute(_MESSAGES_DELIVERED, {"message_ids": confirmed})
        return len(confirmed)

    async def give_back_handovers(self, claims: Sequence[HandoverClaim], now: datetime) -> int:
        if not claims:
            return 0
        params = {"claims": _pairs(claims), "now": now}
        return (await self._conn.execute(_GIVE_BACK_MANY, params)).rowcount

    async def give_back(self, outbox_id: str, token: str, now: datetime) -> bool:
        params = {"outbox_id": outbox_id, "token": token, "now": now}
        return bool((await self._conn.execute(_GIVE_BACK, params)).rowcount)

    async def settle_handovers(self, now: datetime, leased_from: datetime) -> int:
        expired = (
            update(outbox)
            .where(
                outbox.c.status == OutboxStatus.HANDED_OVER.value,
                outbox.c.lease_until <= now,
                outbox.c.lease_until >= leased_from,
                outbox.c.handover.startswith(RETRYING_CALLER, autoescape=True),
            )
            .values(status=OutboxStatus.DELIVERED.value, delivered_at=now, lease_until=None)
            .returning(outbox.c.message_id)
        )
        settled = [r.message_id for r in await self._conn.execute(expired)]
        if settled:
            await self._conn.execute(
                update(messages).where(messages.c.id.in_(settled)).values(status=DELIVERED)
            )
        return len(settled)

    async def release(self, outbox_id: str, now: datetime) -> bool:
        result = await self._conn.execute(_RELEASE, {"outbox_id": outbox_id, "now": now})
        return bool(result.rowcount)

    async def mark_retry(self, outbox_id: str, error: str, next_attempt_at: datetime) -> None:
        await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id, outbox.c.status != OutboxStatus.DELIVERED.value)
            .values(
                status=OutboxStatus.PENDING.value,
                last_error=error[:2000],
                next_attempt_at=next_attempt_at,
                lease_until=None,
            )
        )

    async def mark_failed(self, outbox_id: str, error: str) -> None:
        item = await self._get(outbox_id)
        # As in mark_delivered: never overwrite a delivery, even a concurrent one.
        result = await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id, outbox.c.status != OutboxStatus.DELIVERED.value)
            .values(status=OutboxStatus.FAILED.value, last_error=error[:2000], lease_until=None)
        )
        if not result.rowcount:
            return
        await self._conn.execute(
            update(messages).where(messages.c.id == item.message_id).values(status="failed")
        )


def _pairs(claims: Sequence[HandoverClaim]) -> list[tuple[str, str]]:
    """The claims as ``(outbox id, token)`` rows for ``(id, handover) IN …``."""
    return [(claim.outbox_id, claim.token) for claim in claims]
