"""SQL repository for moderation lexicon edits (platform and tenant terms)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from kindbot.core.records.moderation import ModerationTerm, TermAction
from kindbot.storage.executor import Executor
from kindbot.storage.schema import moderation_generations, moderation_terms
from kindbot.storage.sqlutil import insert_ignoring_conflict, new_id

PLATFORM_SCOPE = "platform"
"""The generation scope of the platform's own terms (tenant scopes are tenant ids)."""


def _scope_filter(tenant_id: str | None) -> Any:
    column = moderation_terms.c.tenant_id
    return column.is_(None) if tenant_id is None else column == tenant_id


def _record(row: Any) -> ModerationTerm:
    return ModerationTerm(
        id=row.id,
        tenant_id=row.tenant_id,
        term=row.term,
        category=row.category,
        action=TermAction(row.action),
        created_at=row.created_at,
        created_by=row.created_by,
    )


class SqlModerationTerms:
    """:class:`kindbot.core.ports.guard.ModerationTermRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def in_scope(self, tenant_id: str | None) -> list[ModerationTerm]:
        query = (
            select(moderation_terms)
            .where(_scope_filter(tenant_id))
            .order_by(moderation_terms.c.created_at, moderation_terms.c.id)
        )
        return [_record(row) for row in await self._conn.execute(query)]

    async def all(self) -> list[ModerationTerm]:
        query = select(moderation_terms).order_by(
            moderation_terms.c.created_at, moderation_terms.c.id
        )
        return [_record(row) for row in await self._conn.execute(query)]

    async def add(
        self,
        *,
        tenant_id: str | None,
        term: str,
        category: str | None,
        action: TermAction,
        created_by: str,
        now: datetime,
    ) -> ModerationTerm | None:
        existing = await self._conn.execute(
            select(moderation_terms.c.id).where(
                _scope_filter(tenant_id), moderation_terms.c.term == term
            )
        )
        if existing.first() is not None:
            return None
        record = ModerationTerm(new_id(), tenant_id, term, category, action, now, created_by)
        await self._conn.execute(
            moderation_terms.insert().values(
                id=record.id,
                tenant_id=tenant_id,
                term=term,
                category=category,
                action=action.value,
                created_at=now,
                created_by=created_by,
            )
        )
        await self._bump(tenant_id)
        return record

    async def remove(self, tenant_id: str | None, term: str) -> int:
        result = await self._conn.execute(
            delete(moderation_terms).where(
                _scope_filter(tenant_id), moderation_terms.c.term == term
            )
        )
        removed = int(result.rowcount)
        if removed:
            await self._bump(tenant_id)
        return removed

    async def generations(self) -> dict[str, int]:
        rows = await self._conn.execute(select(moderation_generations))
        return {row.scope: int(row.generation) for row in rows}

    async def _bump(self, tenant_id: str | None) -> None:
        scope = PLATFORM_SCOPE if tenant_id is None else tenant_id
        await insert_ignoring_conflict(
            self._conn, moderation_generations, {"scope": scope, "generation": 0}, ["scope"]
        )
        await self._conn.execute(
            update(moderation_generations)
            .where(moderation_generations.c.scope == scope)
            .values(generation=moderation_generations.c.generation + 1)
        )
