"""A shop's knowledge base as people work on it: ask it, edit it, see what it cannot answer.

The one implementation behind ``kindbot kb query|import|unanswered`` and the
dashboard's knowledge-base page: the same index, threshold and decision
(answer / clarify / fall back) as the bot's, the same all-or-nothing upsert
(with the new texts' sentence vectors stored at once), the same grouping of
unanswered questions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from kindbot.core.errors import BadRequestError
from kindbot.core.ports.seams import Store
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.core.records.tenancy import TenantRecord
from kindbot.dialogue.clarify import Decision, decide
from kindbot.dialogue.kb_files import derive_id
from kindbot.dialogue.retrieval import KnowledgeIndex, Match, effective_threshold
from kindbot.dialogue.unanswered import Asked, QuestionCluster, cluster_questions, unanswered
from kindbot.guard.keywords import is_opt_in, is_opt_out
from kindbot.pipeline.decide.knowledge import KnowledgeCache

CANDIDATES = 3
"""Candidates a test query shows (as ``kb query`` does)."""
MAX_QUESTION = 500
MAX_ANSWER = 4000
MAX_PHRASINGS = 50


@dataclass(frozen=True, slots=True)
class KbAnswer:
    """What the bot would do with ``query``: its decision at ``threshold`` and the candidates."""

    query: str
    decision: Decision
    threshold: float
    candidates: tuple[Match, ...]

    @property
    def answered(self) -> Match | None:
        """The entry the bot answers with, when it answers."""
        return self.candidates[0] if self.decision == "answer" and self.candidates else None


def answer_for(index: KnowledgeIndex, query: str, threshold: float) -> KbAnswer:
    """The bot's decision for ``query`` over ``index`` (top :data:`CANDIDATES`)."""
    ranked = tuple(index.search(query, limit=CANDIDATES))
    return KbAnswer(query, decide(ranked, threshold), threshold, ranked)


async def tenant_threshold(
    knowledge: KnowledgeCache, tenant: TenantRecord, override: float | None = None
) -> tuple[KnowledgeIndex, float]:
    """The tenant's current index and the threshold it answers at (``override`` wins)."""
    index = await knowledge.index_for(tenant.id)
    limit = override if override is not None else effective_threshold(index, tenant.kb_threshold)
    return index, limit


@dataclass(frozen=True, slots=True)
class SavedEntries:
    """What an upsert did: entries created, updated, unchanged, texts encoded."""

    created: int
    updated: int
    unchanged: int
    encoded: int


async def save_entries(
    store: Store, knowledge: KnowledgeCache, tenant_id: str, entries: Sequence[KnowledgeEntry]
) -> SavedEntries:
    """Add or update ``entries`` by id in one transaction, then store their sentence vectors.

    Encoding here, once, means no server has to (the vectors are stored).
    """
    async with store.transaction() as tx:
        created, updated, same = await tx.knowledge.upsert_many(tenant_id, entries)
    encoded = await knowledge.encode_ahead(tenant_id) if created or updated else 0
    return SavedEntries(created, updated, same, encoded)


async def delete_entry(store: Store, tenant_id: str, entry_id: str) -> bool:
    """Delete one entry; False when the tenant has none with this id."""
    async with store.transaction() as tx:
        return await tx.knowledge.delete_many(tenant_id, [entry_id]) == 1


def entry_from_form(
    *, entry_id: str, question: str, answer: str, similar: str, tags: str
) -> KnowledgeEntry:
    """An entry from a form's fields (phrasings one per line, tags comma-separated).

    400 with the field named when the question or answer is empty or too long.
    Without an id, the id is derived from the question (as ``kb import`` does).
    """
    q, a = " ".join(question.split()), answer.strip()
    if not q or len(q) > MAX_QUESTION:
        raise BadRequestError(f"question: 1 to {MAX_QUESTION} characters", code="invalid_question")
    if not a or len(a) > MAX_ANSWER:
        raise BadRequestError(f"answer: 1 to {MAX_ANSWER} characters", code="invalid_answer")
    phrasings = _unique(" ".join(line.split()) for line in similar.splitlines())
    if len(phrasings) > MAX_PHRASINGS:
        raise BadRequestError(f"similar: at most {MAX_PHRASINGS} phrasings", code="invalid_similar")
    labels = _unique(part.strip() for part in tags.replace("，", ",").split(","))
    return KnowledgeEntry(
        id=entry_id.strip() or derive_id(q),
        question=q,
        answer=a,
        similar=tuple(p for p in phrasings if p != q),
        tags=labels,
    )


def _unique(parts: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for part in parts:
        if part:
            seen.setdefault(part, None)
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class UnansweredGroup:
    """A group of unanswered questions and the entry nearest its leader (to add a phrasing)."""

    cluster: QuestionCluster
    nearest: Match | None


@dataclass(frozen=True, slots=True)
class UnansweredReport:
    """The groups, most customers first, and how many messages and customers they hold."""

    groups: tuple[UnansweredGroup, ...]
    messages: int
    customers: int


async def unanswered_report(
    store: Store,
    knowledge: KnowledgeCache,
    tenant: TenantRecord,
    *,
    since: datetime | None,
    limit: int,
    similarity: float | None = None,
) -> UnansweredReport:
    """The stored customer questions the current knowledge base still cannot answer, grouped.

    Commands (opt-out, opt-in) are not questions. ``similarity``: the mean cosine
    to join a group (None: the default for the platform's encoder).
    """
    async with store.transaction(readonly=True) as tx:
        stored = await tx.kb.inbound_questions(tenant.id, since, limit)
    index, threshold = await tenant_threshold(knowledge, tenant)
    asked = [Asked(q.text, q.contact_id) for q in stored]
    missed = unanswered(
        index, asked, threshold, command=lambda text: is_opt_out(text) or is_opt_in(text)
    )
    clusters = cluster_questions(missed, similarity, encoder=knowledge.encoder)
    groups = tuple(UnansweredGroup(c, _nearest(index, c)) for c in clusters)
    return UnansweredReport(groups, len(missed), len({q.asker for q in missed}))


def _nearest(index: KnowledgeIndex, cluster: QuestionCluster) -> Match | None:
    found = index.search(cluster.leader, limit=1)
    return found[0] if found else None
