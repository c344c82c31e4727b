"""Journeys and their runs over SQL (``tx.journeys``), on SQLite and PostgreSQL.

Triggers are found by anti-join: the occurrences in a recent window whose
contact has no run of the journey yet (``journey_runs`` is unique per journey
and contact, so a run is stored once however often a window is scanned and by
however many workers). Due runs are claimed with a lease (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL), so two workers never fire the same run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, not_, select, update

from kindbot.core.records.conversations import ContactSource
from kindbot.core.records.journeys import (
    JourneyDefinition,
    JourneyRecord,
    JourneyRun,
    NewJourneyRun,
    RunStatus,
    TriggerKind,
    TriggerSeen,
)
from kindbot.storage.executor import Executor
from kindbot.storage.schema import business_events, contact_tags, contacts, journey_runs, journeys
from kindbot.storage.sqlutil import insert_ignoring_conflict_many, new_id

RUN_KEY = ("journey_id", "contact_id")
_CHUNK = 1_000


def _journey(row: Any) -> JourneyRecord:
    return JourneyRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        definition=JourneyDefinition(
            name=row.name,
            trigger=TriggerKind(row.trigger_kind),
            trigger_value=row.trigger_value,
            delay_seconds=row.delay_seconds,
            topic=row.topic,
            text=row.text,
            segment=row.segment,
        ),
        enabled=row.enabled,
        declared_at=row.declared_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _run(row: Any) -> JourneyRun:
    return JourneyRun(
        id=row.id,
        tenant_id=row.tenant_id,
        journey_id=row.journey_id,
        contact_id=row.contact_id,
        trigger_ref=row.trigger_ref,
        triggered_at=row.triggered_at,
        due_at=row.due_at,
        status=RunStatus(row.status),
        reason=row.reason,
        message_id=row.message_id,
        decided_at=row.decided_at,
    )


def _definition_values(definition: JourneyDefinition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "trigger_kind": definition.trigger.value,
        "trigger_value": definition.trigger_value,
        "delay_seconds": definition.delay_seconds,
        "segment": definition.segment,
        "topic": definition.topic,
        "text": definition.text,
    }


class SqlJourneys:
    """:class:`kindbot.core.ports.operations.JourneyRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def get(self, tenant_id: str, name: str) -> JourneyRecord | None:
        row = (
            await self._conn.execute(
                select(journeys).where(journeys.c.tenant_id == tenant_id, journeys.c.name == name)
            )
        ).first()
        return _journey(row) if row is not None else None

    async def list_for_tenant(self, tenant_id: str) -> list[JourneyRecord]:
        query = select(journeys).where(journeys.c.tenant_id == tenant_id).order_by(journeys.c.name)
        return [_journey(row) for row in await self._conn.execute(query)]

    async def enabled(self) -> list[JourneyRecord]:
        query = select(journeys).where(journeys.c.enabled).order_by(journeys.c.id)
        return [_journey(row) for row in await self._conn.execute(query)]

    async def put(
        self, tenant_id: str, definition: JourneyDefinition, now: datetime
    ) -> JourneyRecord:
        found = await self.get(tenant_id, definition.name)
        values = _definition_values(definition)
        if found is None:
            journey_id = new_id()
            await self._conn.execute(
                insert(journeys).values(
                    id=journey_id,
                    tenant_id=tenant_id,
                    enabled=True,
                    declared_at=now,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
        else:
            journey_id = found.id
            retriggered = (found.definition.trigger, found.definition.trigger_value) != (
                definition.trigger,
                definition.trigger_value,
            )
            declared = now if retriggered or not found.enabled else found.declared_at
            if asdict(found.definition) != asdict(definition) or not found.enabled:
                await self._conn.execute(
                    update(journeys)
                    .where(journeys.c.id == journey_id)
                    .values(enabled=True, declared_at=declared, updated_at=now, **values)
                )
        stored = await self.get(tenant_id, definition.name)
        assert stored is not None
        return stored

    async def disable(self, journey_id: str, now: datetime) -> int:
        await self._conn.execute(
            update(journeys)
            .where(journeys.c.id == journey_id)
            .values(enabled=False, updated_at=now)
        )
        cancelled = await self._conn.execute(
            update(journey_runs)
            .where(
                journey_runs.c.journey_id == journey_id,
                journey_runs.c.status == RunStatus.SCHEDULED.value,
            )
            .values(
                status=RunStatus.CANCELLED.value,
                reason="journey withdrawn",
                decided_at=now,
                lease_until=None,
            )
        )
        return int(cancelled.rowcount or 0)

    def _without_run(self, journey: JourneyRecord, contact_id: Any) -> Any:
        return not_(
            exists().where(
                journey_runs.c.journey_id == journey.id, journey_runs.c.contact_id == contact_id
            )
        )

    async def triggers(
        self, journey: JourneyRecord, since: datetime, until: datetime, limit: int
    ) -> list[TriggerSeen]:
        definition = journey.definition
        if definition.trigger is TriggerKind.FIRST_CONTACT:
            c = contacts.c
            query = (
                select(c.id, c.created_at)
                .where(
                    c.tenant_id == journey.tenant_id,
                    c.created_at >= since,
                    c.created_at < until,
                    c.source == ContactSource.MESSAGE.value,
                    self._without_run(journey, c.id),
                )
                .order_by(c.created_at)
                .limit(limit)
            )
            rows = await self._conn.execute(query)
            return [TriggerSeen(r[0], r[1], "first_contact") for r in rows]
        if definition.trigger is TriggerKind.EVENT:
            be = business_events.c
            first = (
                select(be.contact_id, func.min(be.occurred_at).label("at"))
                .where(
                    be.tenant_id == journey.tenant_id,
                    be.occurred_at >= since,
                    be.occurred_at < until,
                    be.type == definition.trigger_value,
                    self._without_run(journey, be.contact_id),
                )
                .group_by(be.contact_id)
                .subquery("first")
            )
            query = (
                select(first.c.contact_id, first.c.at, func.min(be.event_id))
                .join(
                    business_events,
                    and_(
                        be.tenant_id == journey.tenant_id,
                        be.contact_id == first.c.contact_id,
                        be.occurred_at == first.c.at,
                        be.type == definition.trigger_value,
                    ),
                )
                .group_by(first.c.contact_id, first.c.at)
                .order_by(first.c.at)
                .limit(limit)
            )
            rows = await self._conn.execute(query)
            return [TriggerSeen(r[0], r[1], f"event:{r[2]}") for r in rows]
        t = contact_tags.c
        query = (
            select(t.contact_id)
            .where(
                t.tenant_id == journey.tenant_id,
                t.tag == definition.trigger_value,
                self._without_run(journey, t.contact_id),
            )
            .order_by(t.contact_id)
            .limit(limit)
        )
        rows = await self._conn.execute(query)
        return [TriggerSeen(r[0], until, f"tag:{definition.trigger_value}") for r in rows]

    async def mark_tagged_before(self, journey: JourneyRecord, now: datetime) -> int:
        t = contact_tags.c
        query = select(t.contact_id).where(
            t.tenant_id == journey.tenant_id,
            t.tag == journey.definition.trigger_value,
            self._without_run(journey, t.contact_id),
        )
        ids = [row[0] for row in await self._conn.execute(query)]
        runs = [
            NewJourneyRun(
                id=new_id(),
                tenant_id=journey.tenant_id,
                journey_id=journey.id,
                contact_id=contact_id,
                trigger_ref=f"tag:{journey.definition.trigger_value}",
                triggered_at=now,
                due_at=now,
                status=RunStatus.SKIPPED,
                reason="tagged before the journey was declared",
            )
            for contact_id in ids
        ]
        for start in range(0, len(runs), _CHUNK):
            await self.add_runs(runs[start : start + _CHUNK])
        return len(runs)

    async def add_runs(self, runs: Sequence[NewJourneyRun]) -> None:
        rows = [
            {
                "id": run.id,
                "tenant_id": run.tenant_id,
                "journey_id": run.journey_id,
                "contact_id": run.contact_id,
                "trigger_ref": run.trigger_ref,
                "triggered_at": run.triggered_at,
                "due_at": run.due_at,
                "status": run.status.value,
                "reason": run.reason,
                "decided_at": None if run.status is RunStatus.SCHEDULED else run.triggered_at,
            }
            for run in runs
        ]
        await insert_ignoring_conflict_many(self._conn, journey_runs, rows, RUN_KEY)

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[JourneyRun]:
        r = journey_runs.c
        due = and_(
            r.status == RunStatus.SCHEDULED.value,
            r.due_at <= now,
            r.lease_until.is_(None) | (r.lease_until < now),
        )
        query = select(journey_runs).where(due).order_by(r.due_at).limit(limit)
        if self._conn.dialect_name != "sqlite":
            query = query.with_for_update(skip_locked=True)
        rows = list(await self._conn.execute(query))
        if rows:
            await self._conn.execute(
                update(journey_runs)
                .where(r.id.in_([row.id for row in rows]))
                .values(lease_until=lease_until)
            )
        return [_run(row) for row in rows]

    async def settle(
        self,
        run_id: str,
        status: RunStatus,
        *,
        reason: str | None,
        message_id: str | None,
        at: datetime,
    ) -> None:
        await self._conn.execute(
            update(journey_runs)
            .where(journey_runs.c.id == run_id)
            .values(
                status=status.value,
                reason=reason[:200] if reason else None,
                message_id=message_id,
                decided_at=at,
                lease_until=None,
            )
        )

    async def runs(self, journey_id: str, status: RunStatus | None, limit: int) -> list[JourneyRun]:
        query = select(journey_runs).where(journey_runs.c.journey_id == journey_id)
        if status is not None:
            query = query.where(journey_runs.c.status == status.value)
        query = query.order_by(journey_runs.c.due_at.desc(), journey_runs.c.id).limit(limit)
        return [_run(row) for row in await self._conn.execute(query)]

    async def counts(self, tenant_id: str) -> dict[str, dict[RunStatus, int]]:
        r = journey_runs.c
        query = (
            select(r.journey_id, r.status, func.count())
            .where(r.tenant_id == tenant_id)
            .group_by(r.journey_id, r.status)
        )
        found: dict[str, dict[RunStatus, int]] = {}
        for row in await self._conn.execute(query):
            found.setdefault(row[0], {})[RunStatus(row[1])] = int(row[2])
        return found

    async def erase_contact(self, contact_id: str) -> int:
        result = await self._conn.execute(
            delete(journey_runs).where(journey_runs.c.contact_id == contact_id)
        )
        return int(result.rowcount or 0)
