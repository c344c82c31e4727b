"""Contract: what storage offers the knowledge base beyond its entries.

Contract module: imports nothing of ours but ``records``. The tenant's
synonym groups (bundle ``knowledge: - synonyms: [[快递, 物流, 包裹]]``), the
threshold chosen by ``kindbot kb tune``, and the stored inbound questions
that ``kindbot kb unanswered`` re-asks. Changing synonyms or the tuning bumps
the tenant's ``kb_version``, so every process rebuilds its index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["InboundQuestion", "KbTuning", "KnowledgeSettingsRepository"]


@dataclass(frozen=True, slots=True)
class KbTuning:
    """A threshold chosen on ``cases`` labelled queries, and the accuracy it gave."""

    threshold: float
    cases: int
    accuracy: float
    tuned_at: datetime


@dataclass(frozen=True, slots=True)
class InboundQuestion:
    """The text of one stored inbound text message, and who sent it (``contact_id``)."""

    message_id: str
    text: str
    created_at: datetime
    contact_id: str


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
