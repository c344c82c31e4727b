"""A knowledge base's model is fitted once for every process, under a lease.

Each test runs on SQLite and PostgreSQL (``tests/pipeline/conftest.py``). Two
:class:`KnowledgeCache` instances on one store stand for two server processes;
``cache.fits`` counts the full builds that fitted their model themselves.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.pipeline.test_stored_vectors import ENTRIES, tenant_with, words_only

from kindbot.bootstrap import open_container
from kindbot.core.ports.seams import Store
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.retrieval import KnowledgeIndex
from kindbot.pipeline.decide.knowledge import KnowledgeCache, model_key
from kindbot.pipeline.supervisor import TaskSupervisor
from kindbot.settings import Settings

QUERIES = ("cancel the plan", "reset password", "where is my parcel", "what is the weather")
KEY = model_key(None)


def answers(index: KnowledgeIndex) -> list[tuple[str, float]]:
    return [(m.entry_id, m.score) for q in QUERIES for m in index.search(q)]


async def test_a_second_process_uses_the_model_the_first_fitted(settings: Settings) -> None:
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        tenant_id = await tenant_with(opened.store, ENTRIES)
        first, second = KnowledgeCache(opened.store), KnowledgeCache(opened.store)
        fitted_here = await first.index_for(tenant_id)
        assert first.fits == 1
        reused = await second.index_for(tenant_id)
        assert second.fits == 0
        assert not reused.provisional
        assert answers(reused) == answers(fitted_here)
        extra = KnowledgeEntry("refund", "I want a refund", "Refunds take 5 days.", ("money back",))
        async with opened.store.transaction() as tx:
            await tx.knowledge.upsert_many(tenant_id, [extra])
        await second.index_for(tenant_id)
        await first.index_for(tenant_id)
        assert (first.fits, second.fits) == (1, 1), "the new version is fitted once, by one"


async def test_while_another_process_fits_a_server_answers_quick_then_takes_its_model(
    settings: Settings,
) -> None:
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        tenant_id = await tenant_with(opened.store, ENTRIES)
        version, entries = await version_and_entries(opened.store, tenant_id)
        now = datetime.now(UTC)
        async with opened.store.transaction() as tx:
            assert await tx.kb.claim_model(
                tenant_id, KEY, version, "other", now, now + timedelta(minutes=5)
            )
        supervisor = TaskSupervisor()
        cache = KnowledgeCache(opened.store, supervisor=supervisor)
        try:
            quick = await cache.index_at(tenant_id, version)
            assert quick.provisional, "the model is being fitted elsewhere: a quick build"
            theirs = KnowledgeIndex.build(entries).fitted
            assert theirs is not None
            async with opened.store.transaction() as tx:
                assert await tx.kb.save_model(tenant_id, KEY, version, "other", theirs.to_bytes())
            index = await settled(cache, tenant_id, version)
            assert cache.fits == 0
            assert answers(index) == answers(KnowledgeIndex.build(entries, fitted=theirs))
        finally:
            await supervisor.aclose()


async def test_a_lease_whose_holder_died_is_taken_over(settings: Settings) -> None:
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        tenant_id = await tenant_with(opened.store, ENTRIES)
        version, _ = await version_and_entries(opened.store, tenant_id)
        long_ago = datetime.now(UTC) - timedelta(hours=1)
        async with opened.store.transaction() as tx:
            assert await tx.kb.claim_model(
                tenant_id, KEY, version, "dead", long_ago, long_ago + timedelta(minutes=5)
            )
        cache = KnowledgeCache(opened.store)
        index = await cache.index_for(tenant_id)
        assert not index.provisional
        assert cache.fits == 1
        async with opened.store.transaction(readonly=True) as tx:
            stored = await tx.kb.model(tenant_id, KEY)
        assert stored is not None
        assert stored.payload is not None
        assert stored.holder != "dead"


async def test_an_unreadable_stored_model_is_fitted_anew(settings: Settings) -> None:
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        tenant_id = await tenant_with(opened.store, ENTRIES)
        version, entries = await version_and_entries(opened.store, tenant_id)
        now = datetime.now(UTC)
        async with opened.store.transaction() as tx:
            assert await tx.kb.claim_model(tenant_id, KEY, version, "old", now, now)
            assert await tx.kb.save_model(tenant_id, KEY, version, "old", b"not a model")
        cache = KnowledgeCache(opened.store)
        index = await cache.index_for(tenant_id)
        assert cache.fits == 1
        assert answers(index) == answers(KnowledgeIndex.build(entries))


async def test_an_expired_lease_of_a_newer_version_does_not_block_a_build(
    settings: Settings,
) -> None:
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        tenant_id = await tenant_with(opened.store, ENTRIES)
        version, _ = await version_and_entries(opened.store, tenant_id)
        now = datetime.now(UTC)
        async with opened.store.transaction() as tx:
            assert await tx.kb.claim_model(tenant_id, KEY, version + 1, "gone", now, now)
        cache = KnowledgeCache(opened.store)
        assert answers(await cache.index_for(tenant_id))
        assert cache.fits == 1


async def version_and_entries(store: Store, tenant_id: str) -> tuple[int, list[KnowledgeEntry]]:
    async with store.transaction(readonly=True) as tx:
        return await tx.knowledge.version(tenant_id), await tx.knowledge.list(tenant_id)


async def settled(cache: KnowledgeCache, tenant_id: str, version: int) -> KnowledgeIndex:
    """The cache's index once its background build is complete (at most 30 s)."""
    for _ in range(300):
        index = await cache.index_at(tenant_id, version)
        if not index.provisional:
            return index
        await asyncio.sleep(0.1)
    raise AssertionError("the background build never completed")
