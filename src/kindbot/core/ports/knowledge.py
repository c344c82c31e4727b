"""Contract: what storage offers the knowledge base: its entries, and what goes with them.

Contract module: imports nothing of ours but ``records``. The tenant's
synonym groups (bundle ``knowledge: - synonyms: [[快递, 物流, 包裹]]``), the
threshold chosen by ``kindbot kb tune``, and the stored inbound questions
that ``kindbot kb unanswered`` re-asks. Changing synonyms or the tuning bumps
the tenant's ``kb_version``, so every process rebuilds its index. The sentence
vectors of the knowledge base's texts are kept here too (a cache: storing or
dropping them never bumps the version).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from kindbot.core.records.knowledge import (
    InboundQuestion,
    KbTuning,
    KnowledgeEntry,
    StoredModel,
    StoredVector,
)

__all__ = ["KnowledgeRepository", "KnowledgeSettingsRepository"]


class KnowledgeRepository(Protocol):
    """A tenant's FAQ entries and a version number bumped on every change."""

    async def list(self, tenant_id: str) -> list[KnowledgeEntry]: ...
    async def version(self, tenant_id: str) -> int: ...

    async def upsert_many(
        self, tenant_id: str, entries: Sequence[KnowledgeEntry]
    ) -> tuple[int, int, int]:
        """Insert or update entries by id; returns (created, updated, unchanged)."""
        ...

    async def delete_many(self, tenant_id: str, entry_ids: Sequence[str]) -> int:
        """Delete these entries (unknown ids are skipped); how many; the version moves if any."""
        ...


class KnowledgeSettingsRepository(Protocol):
    """Per-tenant knowledge-base settings (``tx.kb``)."""

    async def synonyms(self, tenant_id: str) -> list[tuple[str, ...]]:
        """The tenant's synonym groups, in the order they were given."""

    async def replace_synonyms(self, tenant_id: str, groups: Sequence[Sequence[str]]) -> bool:
        """Store ``groups`` instead of the current ones; True (and ``kb_version``
        bumped) when they differ."""

    async def tuning(self, tenant_id: str) -> KbTuning | None:
        """The tenant's tuned threshold, if ``kb tune`` ran."""

    async def save_tuning(self, tenant_id: str, tuning: KbTuning) -> None:
        """Store (replace) the tuned threshold and bump ``kb_version``."""

    async def inbound_questions(
        self, tenant_id: str, since: datetime | None, limit: int
    ) -> list[InboundQuestion]:
        """The tenant's inbound text messages searched in the knowledge base as a
        question (``kb_asked``; rows stored before that was recorded count too),
        newest first, at most ``limit``, received at or after ``since`` when given."""

    async def vectors(self, tenant_id: str, model: str) -> list[StoredVector]:
        """Every sentence vector stored for the tenant by the encoder named ``model``."""

    async def add_vectors(
        self, tenant_id: str, model: str, vectors: Sequence[StoredVector]
    ) -> None:
        """Store ``vectors`` for ``model``; a digest already stored is left as it is
        (concurrent writers of the same text never fail)."""

    async def drop_vectors(self, tenant_id: str, digests: Collection[str]) -> int:
        """Remove the vectors (of every model) of the texts ``digests`` name; how many rows."""

    async def model(self, tenant_id: str, model_key: str) -> StoredModel | None:
        """The tenant's stored fitted model (or lease) for ``model_key``, if any."""
        ...

    async def claim_model(
        self,
        tenant_id: str,
        model_key: str,
        kb_version: int,
        holder: str,
        now: datetime,
        until: datetime,
    ) -> bool:
        """Take the lease to fit ``kb_version``: True when ``holder`` has it now — there
        was no row, or it holds an older version, or an unfinished lease ran out
        before ``now``. The lease replaces what was stored."""
        ...

    async def save_model(
        self, tenant_id: str, model_key: str, kb_version: int, holder: str, payload: bytes
    ) -> bool:
        """Store the fitted model, only while ``holder`` still holds the lease of
        ``kb_version`` (fencing: a lease taken over makes this a no-op, False)."""
        ...
