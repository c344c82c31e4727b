"""SQL repositories for the knowledge base and consents (the audit chain: `repos_audit`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from kindbot.core.records.consent import ConsentRecord, ConsentStatus
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.storage.executor import Executor
from kindbot.storage.revisions import KB_CHANGED
from kindbot.storage.schema import (
    consents,
    knowledge_entries,
    tenants,
)
from kindbot.storage.sqlutil import new_id


def _entry(row: Any) -> KnowledgeEntry:
    return KnowledgeEntry(
        id=row.entry_id,
        question=row.question,
        answer=row.answer,
        similar=tuple(json.loads(row.similar_json)),
        tags=tuple(json.loads(row.tags_json)),
    )


_KB_VERSION = select(tenants.c.kb_version).where(tenants.c.id == bindparam("tenant_id"))


class SqlKnowledge:
    """:class:`kindbot.core.ports.seams.KnowledgeRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def list(self, tenant_id: str) -> list[KnowledgeEntry]:
        query = (
            select(knowledge_entries)
            .where(knowledge_entries.c.tenant_id == tenant_id)
            .order_by(knowledge_entries.c.entry_id)
        )
        return [_entry(r) for r in await self._conn.execute(query)]

    async def version(self, tenant_id: str) -> int:
        row = (await self._conn.execute(_KB_VERSION, {"tenant_id": tenant_id})).first()
        return int(row.kb_version) if row else 0

    async def upsert_many(
        self, tenant_id: str, entries: Sequence[KnowledgeEntry]
    ) -> tuple[int, int, int]:
        existing = {e.id: e for e in await self.list(tenant_id)}
        now = datetime.now(UTC)
        created = updated = 0
        for entry in entries:
            values = {
                "question": entry.question,
                "answer": entry.answer,
                "similar_json": json.dumps(list(entry.similar), ensure_ascii=False),
                "tags_json": json.dumps(list(entry.tags), ensure_ascii=False),
                "updated_at": now,
            }
            old = existing.get(entry.id)
            if old is None:
                await self._conn.execute(
                    knowledge_entries.insert().values(
                        tenant_id=tenant_id, entry_id=entry.id, **values
                    )
                )
                created += 1
            elif old != entry:
                await self._conn.execute(
                    update(knowledge_entries)
                    .where(
                        knowledge_entries.c.tenant_id == tenant_id,
                        knowledge_entries.c.entry_id == entry.id,
                    )
                    .values(**values)
                )
                updated += 1
        if created or updated:
            await self._new_version(tenant_id)
        return created, updated, len(entries) - created - updated

    async def delete_many(self, tenant_id: str, entry_ids: Sequence[str]) -> int:
        if not entry_ids:
            return 0
        query = (
            delete(knowledge_entries)
            .where(
                knowledge_entries.c.tenant_id == tenant_id,
                knowledge_entries.c.entry_id.in_(list(entry_ids)),
            )
            .returning(knowledge_entries.c.entry_id)
        )
        deleted = len((await self._conn.execute(query)).all())
        if deleted:
            await self._new_version(tenant_id)
        return deleted

    async def _new_version(self, tenant_id: str) -> None:
        await self._conn.execute(
            update(tenants).where(tenants.c.id == tenant_id).values(**KB_CHANGED)
        )


def _consent(row: Any) -> ConsentRecord:
    return ConsentRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        contact_id=row.contact_id,
        channel_id=row.channel_id,
        topic=row.topic,
        status=ConsentStatus(row.status),
        source=row.source,
        wording=row.wording,
        granted_at=row.granted_at,
        withdrawn_at=row.withdrawn_at,
    )


class SqlConsents:
    """:class:`kindbot.core.ports.seams.ConsentRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def grant(
        self,
        *,
        tenant_id: str,
        contact_id: str,
        channel_id: str,
        topic: str,
        source: str,
        wording: str,
        now: datetime,
    ) -> ConsentRecord:
        consent_id = new_id()
        await self._conn.execute(
            consents.insert().values(
                id=consent_id,
                tenant_id=tenant_id,
                contact_id=contact_id,
                channel_id=channel_id,
                topic=topic,
                status=ConsentStatus.ACTIVE.value,
                source=source,
                wording=wording,
                granted_at=now,
                withdrawn_at=None,
            )
        )
        row = (await self._conn.execute(select(consents).where(consents.c.id == consent_id))).one()
        return _consent(row)

    async def withdraw_all(self, contact_id: str, now: datetime) -> int:
        result = await self._conn.execute(
            update(consents)
            .where(
                consents.c.contact_id == contact_id,
                consents.c.status == ConsentStatus.ACTIVE.value,
            )
            .values(status=ConsentStatus.WITHDRAWN.value, withdrawn_at=now)
        )
        return int(result.rowcount)

    async def active(self, contact_id: str) -> list[ConsentRecord]:
        query = select(consents).where(
            consents.c.contact_id == contact_id, consents.c.status == ConsentStatus.ACTIVE.value
        )
        return [
            _consent(r) for r in await self._conn.execute(query.order_by(consents.c.granted_at))
        ]

    async def active_for(
        self, contact_id: str, channel_id: str, topic: str
    ) -> ConsentRecord | None:
        query = (
            select(consents)
            .where(
                consents.c.contact_id == contact_id,
                consents.c.channel_id == channel_id,
                consents.c.topic == topic,
                consents.c.status == ConsentStatus.ACTIVE.value,
            )
            .order_by(consents.c.granted_at.desc())
            .limit(1)
        )
        row = (await self._conn.execute(query)).first()
        return _consent(row) if row is not None else None

    async def holders(self, tenant_id: str, topic: str) -> dict[tuple[str, str], str]:
        query = select(consents.c.contact_id, consents.c.channel_id, consents.c.wording).where(
            consents.c.tenant_id == tenant_id,
            consents.c.topic == topic,
            consents.c.status == ConsentStatus.ACTIVE.value,
        )
        return {(r.contact_id, r.channel_id): r.wording for r in await self._conn.execute(query)}

    async def withdraw(self, contact_id: str, topic: str, now: datetime) -> int:
        result = await self._conn.execute(
            update(consents)
            .where(
                consents.c.contact_id == contact_id,
                consents.c.topic == topic,
                consents.c.status == ConsentStatus.ACTIVE.value,
            )
            .values(status=ConsentStatus.WITHDRAWN.value, withdrawn_at=now)
        )
        return int(result.rowcount)

    async def for_contact(self, contact_id: str) -> list[ConsentRecord]:
        query = select(consents).where(consents.c.contact_id == contact_id)
        return [
            _consent(r) for r in await self._conn.execute(query.order_by(consents.c.granted_at))
        ]
