"""A process's first question is answered from a quick build; the full one follows.

Each test runs on SQLite and PostgreSQL (``tests/pipeline/conftest.py``).
"""

from __future__ import annotations

import asyncio

from tests.pipeline.test_stored_vectors import ENTRIES, tenant_with, words_only
from tests.support.encoders import ConceptEncoder

from kindbot.bootstrap import open_container
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.pipeline.decide.knowledge import KnowledgeCache
from kindbot.pipeline.supervisor import TaskSupervisor
from kindbot.settings import Settings

MANY = tuple(
    KnowledgeEntry(f"e{i}", f"question number {i} about topic {i}", f"answer {i}", (f"ask {i}",))
    for i in range(12)
)


async def _version(cache: KnowledgeCache, opened_store: object, tenant_id: str) -> int:
    async with opened_store.transaction(readonly=True) as tx:  # type: ignore[attr-defined]
        return int(await tx.knowledge.version(tenant_id))


async def test_the_message_path_answers_from_a_quick_build_then_the_full_one(
    settings: Settings,
) -> None:
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        tenant_id = await tenant_with(opened.store, (*ENTRIES, *MANY))
        supervisor = TaskSupervisor()
        cache = KnowledgeCache(opened.store, encoder=ConceptEncoder(), supervisor=supervisor)
        version = await _version(cache, opened.store, tenant_id)
        first = await cache.index_at(tenant_id, version, quick_start=True)
        assert first.provisional, "no classifier and no fitted calibration yet"
        assert first.search("reset my password")[0].entry_id == "password"
        for _ in range(200):  # the full build runs as an owned background task
            full = await cache.index_at(tenant_id, version, quick_start=True)
            if not full.provisional:
                break
            await asyncio.sleep(0.05)
        assert not full.provisional
        assert full.learned, "the classifier trained on the phrasings"
        assert not first.learned
        await supervisor.aclose()


async def test_commands_and_later_versions_wait_for_the_full_build(settings: Settings) -> None:
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        tenant_id = await tenant_with(opened.store, (*ENTRIES, *MANY))
        supervisor = TaskSupervisor()
        cache = KnowledgeCache(opened.store, encoder=ConceptEncoder(), supervisor=supervisor)
        assert not (await cache.index_for(tenant_id)).provisional
        async with opened.store.transaction() as tx:
            await tx.knowledge.upsert_many(tenant_id, [KnowledgeEntry("new", "brand new", "yes")])
        version = await _version(cache, opened.store, tenant_id)
        edited = await cache.index_at(tenant_id, version, quick_start=True)
        assert not edited.provisional, "an edit in a warm process rebuilds in full"
        assert "new" in edited.entry_ids
        await supervisor.aclose()


async def test_one_question_per_entry_has_nothing_to_complete(settings: Settings) -> None:
    single = tuple(KnowledgeEntry(e.id, e.question, e.answer) for e in MANY)
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        tenant_id = await tenant_with(opened.store, single)
        supervisor = TaskSupervisor()
        cache = KnowledgeCache(opened.store, encoder=ConceptEncoder(), supervisor=supervisor)
        version = await _version(cache, opened.store, tenant_id)
        index = await cache.index_at(tenant_id, version, quick_start=True)
        assert not index.provisional
        assert supervisor.running == 0, "no background build for nothing"
        await supervisor.aclose()
