"""The knowledge base's sentence vectors are stored with it: a text is encoded once.

Each test runs on SQLite and PostgreSQL (``tests/pipeline/conftest.py``). The
containers run words-only (``sentence_encoder="off"``); the cache under test
gets a counting encoder (``ConceptEncoder.asked``), so "encoded" is observed,
not assumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tests.contracts.builders import make_tenant
from tests.support.encoders import ConceptEncoder

from kindbot.bootstrap import open_container
from kindbot.core.ports.seams import Store
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.pipeline.decide.knowledge import KnowledgeCache
from kindbot.pipeline.decide.stored_vectors import text_digest
from kindbot.settings import Settings

ENTRIES = (
    KnowledgeEntry(
        "cancel",
        "How do I cancel my subscription?",
        "Go to Settings > Plan > Cancel.",
        ("cancel subscription", "please cancel the subscription", "end my membership"),
    ),
    KnowledgeEntry(
        "password",
        "I forgot my password",
        "Use the reset link on the sign-in page.",
        ("reset my password", "password does not work", "cannot login"),
    ),
    KnowledgeEntry(
        "parcel",
        "My parcel is late",
        "Parcels take 3-5 working days.",
        ("the parcel has not arrived", "delivery is delayed", "why is my package slow"),
    ),
)


class OtherModel(ConceptEncoder):
    """The same vectors under another model's name."""

    name = "other-model"


def words_only(settings: Settings) -> Settings:
    return replace(settings, sentence_encoder="off")


async def tenant_with(store: Store, entries: Sequence[KnowledgeEntry]) -> str:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        await tx.knowledge.upsert_many(tenant.id, entries)
    return tenant.id


async def stored_digests(store: Store, tenant_id: str, model: str) -> set[str]:
    async with store.transaction(readonly=True) as tx:
        return {v.digest for v in await tx.kb.vectors(tenant_id, model)}


async def test_a_restarted_process_encodes_nothing(settings: Settings) -> None:
    first = ConceptEncoder()
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        tenant_id = await tenant_with(opened.store, ENTRIES)
        built = await KnowledgeCache(opened.store, encoder=first).index_for(tenant_id)
        assert first.asked, "the build encodes its texts"
        assert await stored_digests(opened.store, tenant_id, first.name) == {
            text_digest(text) for text in first.asked
        }
    again = ConceptEncoder()
    async with open_container(words_only(settings)) as reopened:
        index = await KnowledgeCache(reopened.store, encoder=again).index_for(tenant_id)
        assert again.asked == []
        assert index.search("terminate my plan") == built.search("terminate my plan")


async def test_an_edit_encodes_only_the_new_phrasing(settings: Settings) -> None:
    encoder = ConceptEncoder()
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        cache = KnowledgeCache(opened.store, encoder=encoder)
        tenant_id = await tenant_with(opened.store, ENTRIES)
        await cache.index_for(tenant_id)
        assert encoder.asked
        encoder.asked.clear()
        edited = replace(ENTRIES[2], similar=(*ENTRIES[2].similar, "where is my shipment"))
        async with opened.store.transaction() as tx:
            await tx.knowledge.upsert_many(tenant_id, [edited])
        assert await cache.encode_ahead(tenant_id) == 1
        assert encoder.asked == ["where is my shipment"]
        stored = await stored_digests(opened.store, tenant_id, encoder.name)
        assert text_digest("where is my shipment") in stored


async def test_vectors_of_another_model_are_not_used(settings: Settings) -> None:
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        tenant_id = await tenant_with(opened.store, ENTRIES)
        mine = ConceptEncoder()
        await KnowledgeCache(opened.store, encoder=mine).index_for(tenant_id)
        other = OtherModel()
        await KnowledgeCache(opened.store, encoder=other).index_for(tenant_id)
        assert sorted(other.asked) == sorted(mine.asked)
        both = await stored_digests(opened.store, tenant_id, other.name)
        assert both == await stored_digests(opened.store, tenant_id, mine.name)


async def test_a_text_the_knowledge_base_lost_loses_its_vector(settings: Settings) -> None:
    encoder = ConceptEncoder()
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        cache = KnowledgeCache(opened.store, encoder=encoder)
        tenant_id = await tenant_with(opened.store, ENTRIES)
        await cache.index_for(tenant_id)
        gone = ENTRIES[1].similar[0]
        assert text_digest(gone) in await stored_digests(opened.store, tenant_id, encoder.name)
        edited = replace(ENTRIES[1], similar=ENTRIES[1].similar[1:])
        async with opened.store.transaction() as tx:
            await tx.knowledge.upsert_many(tenant_id, [edited])
        encoder.asked.clear()
        assert await cache.encode_ahead(tenant_id) == 0
        assert encoder.asked == []
        left = await stored_digests(opened.store, tenant_id, encoder.name)
        assert text_digest(gone) not in left
        assert text_digest(ENTRIES[1].similar[1]) in left


async def test_without_an_encoder_nothing_is_stored(settings: Settings) -> None:
    async with open_container(words_only(settings), auto_migrate=True) as opened:
        tenant_id = await tenant_with(opened.store, ENTRIES)
        assert opened.knowledge.encoder is None
        assert await opened.knowledge.encode_ahead(tenant_id) == 0
        assert (await opened.knowledge.index_for(tenant_id)).search("cancel subscription")
        assert await stored_digests(opened.store, tenant_id, ConceptEncoder.name) == set()
