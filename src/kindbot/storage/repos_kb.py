"""SQL implementation of :class:`kindbot.core.ports.knowledge.KnowledgeSettingsRepository`."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update

from kindbot.core.records.conversations import Direction
from kindbot.core.records.knowledge import InboundQuestion, KbTuning, StoredModel, StoredVector
from kindbot.storage.executor import Executor
from kindbot.storage.revisions import KB_CHANGED
from kindbot.storage.schema import (
    kb_models,
    kb_synonyms,
    kb_tuning,
    kb_vectors,
    messages,
    tenants,
)
from kindbot.storage.sqlutil import insert_ignoring_conflict, insert_ignoring_conflict_many

_TEXT_KIND = "text"
_CHUNK = 500
"""Rows (or digests) per statement: far below every backend's parameter limit."""


class SqlKnowledgeSettings:
    """Synonym groups, the tuned threshold, inbound questions and sentence vectors, over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def synonyms(self, tenant_id: str) -> list[tuple[str, ...]]:
        query = (
            select(kb_synonyms.c.terms_json)
            .where(kb_synonyms.c.tenant_id == tenant_id)
            .order_by(kb_synonyms.c.position)
        )
        return [tuple(json.loads(r.terms_json)) for r in await self._conn.execute(query)]

    async def replace_synonyms(self, tenant_id: str, groups: Sequence[Sequence[str]]) -> bool:
        wanted = [tuple(g) for g in groups]
        if wanted == await self.synonyms(tenant_id):
            return False
        await self._conn.execute(delete(kb_synonyms).where(kb_synonyms.c.tenant_id == tenant_id))
        for position, group in enumerate(wanted):
            await self._conn.execute(
                kb_synonyms.insert().values(
                    tenant_id=tenant_id,
                    position=position,
                    terms_json=json.dumps(list(group), ensure_ascii=False),
                )
            )
        await self._bump(tenant_id)
        return True

    async def tuning(self, tenant_id: str) -> KbTuning | None:
        query = select(kb_tuning).where(kb_tuning.c.tenant_id == tenant_id)
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        return KbTuning(row.threshold, row.cases, row.accuracy, row.tuned_at)

    async def save_tuning(self, tenant_id: str, tuning: KbTuning) -> None:
        await self._conn.execute(delete(kb_tuning).where(kb_tuning.c.tenant_id == tenant_id))
        await self._conn.execute(
            kb_tuning.insert().values(
                tenant_id=tenant_id,
                threshold=tuning.threshold,
                cases=tuning.cases,
                accuracy=tuning.accuracy,
                tuned_at=tuning.tuned_at,
            )
        )
        await self._bump(tenant_id)

    async def inbound_questions(
        self, tenant_id: str, since: datetime | None, limit: int
    ) -> list[InboundQuestion]:
        query = select(
            messages.c.id, messages.c.text, messages.c.created_at, messages.c.contact_id
        ).where(
            messages.c.tenant_id == tenant_id,
            messages.c.direction == Direction.INBOUND.value,
            messages.c.kind == _TEXT_KIND,
            or_(messages.c.kb_asked.is_(None), messages.c.kb_asked.is_(True)),
        )
        if since is not None:
            query = query.where(messages.c.created_at >= since)
        query = query.order_by(messages.c.seq.desc()).limit(limit)
        rows = await self._conn.execute(query)
        return [InboundQuestion(r.id, r.text, r.created_at, r.contact_id) for r in rows]

    async def vectors(self, tenant_id: str, model: str) -> list[StoredVector]:
        query = select(kb_vectors.c.digest, kb_vectors.c.dim, kb_vectors.c.vector).where(
            kb_vectors.c.tenant_id == tenant_id, kb_vectors.c.model == model
        )
        rows = await self._conn.execute(query)
        return [StoredVector(r.digest, r.dim, bytes(r.vector)) for r in rows]

    async def add_vectors(
        self, tenant_id: str, model: str, vectors: Sequence[StoredVector]
    ) -> None:
        rows = [
            {
                "tenant_id": tenant_id,
                "model": model,
                "digest": v.digest,
                "dim": v.dim,
                "vector": v.data,
            }
            for v in vectors
        ]
        for start in range(0, len(rows), _CHUNK):
            await insert_ignoring_conflict_many(
                self._conn,
                kb_vectors,
                rows[start : start + _CHUNK],
                ("tenant_id", "model", "digest"),
            )

    async def drop_vectors(self, tenant_id: str, digests: Collection[str]) -> int:
        wanted = sorted(set(digests))
        dropped = 0
        for start in range(0, len(wanted), _CHUNK):
            result = await self._conn.execute(
                delete(kb_vectors).where(
                    kb_vectors.c.tenant_id == tenant_id,
                    kb_vectors.c.digest.in_(wanted[start : start + _CHUNK]),
                )
            )
            dropped += result.rowcount
        return dropped

    async def model(self, tenant_id: str, model_key: str) -> StoredModel | None:
        query = select(
            kb_models.c.kb_version, kb_models.c.holder, kb_models.c.lease_until, kb_models.c.payload
        ).where(kb_models.c.tenant_id == tenant_id, kb_models.c.model_key == model_key)
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        payload = bytes(row.payload) if row.payload is not None else None
        return StoredModel(row.kb_version, row.holder, row.lease_until, payload)

    async def claim_model(
        self,
        tenant_id: str,
        model_key: str,
        kb_version: int,
        holder: str,
        now: datetime,
        until: datetime,
    ) -> bool:
        lease = {"kb_version": kb_version, "holder": holder, "lease_until": until, "payload": None}
        row = {"tenant_id": tenant_id, "model_key": model_key, **lease}
        if await insert_ignoring_conflict(self._conn, kb_models, row, ("tenant_id", "model_key")):
            return True
        taken = await self._conn.execute(
            update(kb_models)
            .where(
                kb_models.c.tenant_id == tenant_id,
                kb_models.c.model_key == model_key,
                or_(
                    kb_models.c.kb_version < kb_version,
                    (kb_models.c.payload.is_(None)) & (kb_models.c.lease_until < now),
                ),
            )
            .values(**lease)
        )
        return bool(taken.rowcount)

    async def save_model(
        self, tenant_id: str, model_key: str, kb_version: int, holder: str, payload: bytes
    ) -> bool:
        saved = await self._conn.execute(
            update(kb_models)
            .where(
                kb_models.c.tenant_id == tenant_id,
                kb_models.c.model_key == model_key,
                kb_models.c.kb_version == kb_version,
                kb_models.c.holder == holder,
                kb_models.c.payload.is_(None),
            )
            .values(payload=payload, lease_until=None)
        )
        return bool(saved.rowcount)

    async def _bump(self, tenant_id: str) -> None:
        await self._conn.execute(
            update(tenants).where(tenants.c.id == tenant_id).values(**KB_CHANGED)
        )
