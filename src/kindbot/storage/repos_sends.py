"""SQL repositories for the guard's sends: broadcasts, deferred sends, violations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update

from kindbot.core.records.campaigns import BroadcastRecord, BroadcastStatus
from kindbot.core.records.outbox import DeferredSend, DeferredStatus
from kindbot.core.records.violations import ViolationRecord
from kindbot.storage.executor import Executor
from kindbot.storage.schema import (
    broadcasts,
    deferred_sends,
    violations,
)
from kindbot.storage.sqlutil import new_id


def _broadcast(row: Any) -> BroadcastRecord:
    return BroadcastRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        topic=row.topic,
        text=row.text,
        tag=row.tag,
        recipients=row.recipients,
        status=BroadcastStatus(row.status),
        created_by=row.created_by,
        approved_by=row.approved_by,
        created_at=row.created_at,
    )


class SqlBroadcasts:
    """:class:`kindbot.core.ports.guard.BroadcastRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def create(
        self,
        *,
        tenant_id: str,
        topic: str,
        text: str,
        tag: str,
        recipients: int,
        status: BroadcastStatus,
        created_by: str,
        now: datetime,
    ) -> BroadcastRecord:
        broadcast_id = new_id()
        await self._conn.execute(
            broadcasts.insert().values(
                id=broadcast_id,
                tenant_id=tenant_id,
                topic=topic,
                text=text,
                tag=tag,
                recipients=recipients,
                status=status.value,
                created_by=created_by,
                approved_by=None,
                created_at=now,
            )
        )
        record = await self.get(broadcast_id)
        assert record is not None
        return record

    async def get(self, broadcast_id: str) -> BroadcastRecord | None:
        row = (
            await self._conn.execute(select(broadcasts).where(broadcasts.c.id == broadcast_id))
        ).first()
        return _broadcast(row) if row is not None else None

    async def approve(self, broadcast_id: str, approved_by: str) -> bool:
        result = await self._conn.execute(
            update(broadcasts)
            .where(
                broadcasts.c.id == broadcast_id,
                broadcasts.c.status == BroadcastStatus.AWAITING_APPROVAL.value,
            )
            .values(status=BroadcastStatus.SENT.value, approved_by=approved_by)
        )
        return bool(result.rowcount)


def _deferred(row: Any) -> DeferredSend:
    return DeferredSend(
        id=row.id,
        tenant_id=row.tenant_id,
        channel_id=row.channel_id,
        contact_id=row.contact_id,
        topic=row.topic,
        text=row.text,
        broadcast_id=row.broadcast_id,
        status=DeferredStatus(row.status),
        due_at=row.due_at,
        attempts=row.attempts,
        created_at=row.created_at,
    )


class SqlDeferred:
    """:class:`kindbot.core.ports.guard.DeferredSendRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(
        self,
        *,
        tenant_id: str,
        channel_id: str,
        contact_id: str,
        topic: str,
        text: str,
        broadcast_id: str | None,
        due_at: datetime,
        now: datetime,
    ) -> DeferredSend:
        deferred_id = new_id()
        await self._conn.execute(
            deferred_sends.insert().values(
                id=deferred_id,
                tenant_id=tenant_id,
                channel_id=channel_id,
                contact_id=contact_id,
                topic=topic,
                text=text,
                broadcast_id=broadcast_id,
                status=DeferredStatus.WAITING.value,
                due_at=due_at,
                attempts=0,
                lease_until=None,
                created_at=now,
            )
        )
        row = (
            await self._conn.execute(
                select(deferred_sends).where(deferred_sends.c.id == deferred_id)
            )
        ).one()
        return _deferred(row)

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[DeferredSend]:
        due = and_(
            deferred_sends.c.status == DeferredStatus.WAITING.value,
            deferred_sends.c.due_at <= now,
            (deferred_sends.c.lease_until.is_(None)) | (deferred_sends.c.lease_until < now),
        )
        query = select(deferred_sends).where(due).order_by(deferred_sends.c.due_at).limit(limit)
        if self._conn.dialect_name != "sqlite":
            query = query.with_for_update(skip_locked=True)
        rows = list(await self._conn.execute(query))
        if rows:
            await self._conn.execute(
                update(deferred_sends)
                .where(deferred_sends.c.id.in_([row.id for row in rows]))
                .values(lease_until=lease_until)
            )
        return [_deferred(row) for row in rows]

    async def settle(self, deferred_id: str, status: DeferredStatus) -> None:
        await self._conn.execute(
            update(deferred_sends)
            .where(deferred_sends.c.id == deferred_id)
            .values(status=status.value, lease_until=None)
        )

    async def postpone(self, deferred_id: str, due_at: datetime) -> None:
        await self._conn.execute(
            update(deferred_sends)
            .where(deferred_sends.c.id == deferred_id)
            .values(due_at=due_at, attempts=deferred_sends.c.attempts + 1, lease_until=None)
        )

    async def waiting_for_tenant(self, tenant_id: str) -> list[DeferredSend]:
        query = (
            select(deferred_sends)
            .where(
                deferred_sends.c.tenant_id == tenant_id,
                deferred_sends.c.status == DeferredStatus.WAITING.value,
            )
            .order_by(deferred_sends.c.due_at)
        )
        return [_deferred(row) for row in await self._conn.execute(query)]


class SqlViolations:
    """:class:`kindbot.core.ports.guard.ViolationRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def record(
        self, *, tenant_id: str, at: datetime, rule: str, severity: str, weight: int, subject: str
    ) -> None:
        await self._conn.execute(
            violations.insert().values(
                id=new_id(),
                tenant_id=tenant_id,
                at=at,
                rule=rule,
                severity=severity,
                weight=weight,
                subject=subject[:200],
                forgiven=False,
            )
        )

    async def score(self, tenant_id: str, since: datetime) -> int:
        query = select(func.coalesce(func.sum(violations.c.weight), 0)).where(
            violations.c.tenant_id == tenant_id,
            violations.c.at >= since,
            violations.c.forgiven.is_(False),
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def forgive(self, tenant_id: str) -> int:
        result = await self._conn.execute(
            update(violations)
            .where(violations.c.tenant_id == tenant_id, violations.c.forgiven.is_(False))
            .values(forgiven=True)
        )
        return int(result.rowcount)

    async def recent(self, tenant_id: str, limit: int) -> list[ViolationRecord]:
        query = (
            select(violations)
            .where(violations.c.tenant_id == tenant_id)
            .order_by(violations.c.at.desc(), violations.c.id.desc())
            .limit(limit)
        )
        return [
            ViolationRecord(
                at=row.at,
                rule=row.rule,
                severity=row.severity,
                weight=int(row.weight),
                subject=row.subject,
                forgiven=bool(row.forgiven),
            )
            for row in await self._conn.execute(query)
        ]
