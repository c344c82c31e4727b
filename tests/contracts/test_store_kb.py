"""Knowledge-base settings storage (``tx.kb``): synonyms, tuning, inbound questions.

Runs once per backend (the ``store`` fixture).
"""

from __future__ import annotations

from kindbot.kb_repository import KbTuning
from kindbot.types import Store
from tests.contracts.builders import at, make_party, make_tenant, store_inbound, store_outbound


async def test_synonyms_are_replaced_in_order_and_bump_the_version_only_on_change(
    store: Store,
) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        other = await make_tenant(tx, "other")
        start = await tx.knowledge.version(tenant.id)
        assert await tx.kb.synonyms(tenant.id) == []
        assert await tx.kb.replace_synonyms(tenant.id, [["快递", "物流"], ["退款", "退钱", "返款"]])
        assert await tx.knowledge.version(tenant.id) == start + 1
    async with store.transaction() as tx:
        assert await tx.kb.synonyms(tenant.id) == [("快递", "物流"), ("退款", "退钱", "返款")]
        assert not await tx.kb.replace_synonyms(
            tenant.id, [("快递", "物流"), ("退款", "退钱", "返款")]
        )
        assert await tx.knowledge.version(tenant.id) == start + 1
        assert await tx.kb.replace_synonyms(tenant.id, [["发票", "开票"]])
        assert await tx.kb.synonyms(tenant.id) == [("发票", "开票")]
        assert await tx.kb.synonyms(other.id) == []
        assert await tx.kb.replace_synonyms(tenant.id, [])
        assert await tx.kb.synonyms(tenant.id) == []
        assert await tx.knowledge.version(tenant.id) == start + 3


async def test_tuning_is_stored_per_tenant_replaced_and_bumps_the_version(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        other = await make_tenant(tx, "other")
        assert await tx.kb.tuning(tenant.id) is None
        start = await tx.knowledge.version(tenant.id)
        await tx.kb.save_tuning(tenant.id, KbTuning(0.42, 120, 0.9, at(1)))
        await tx.kb.save_tuning(tenant.id, KbTuning(0.37, 150, 0.93, at(2)))
    async with store.transaction() as tx:
        assert await tx.kb.tuning(tenant.id) == KbTuning(0.37, 150, 0.93, at(2))
        assert await tx.kb.tuning(other.id) is None
        assert await tx.knowledge.version(tenant.id) == start + 2


async def test_inbound_questions_are_the_tenants_inbound_texts_newest_first(store: Store) -> None:
    party = await make_party(store)
    neighbour = await make_party(store, external_id="U2")
    stranger = await make_party(store, "other")
    async with store.transaction() as tx:
        first, _ = await store_inbound(tx, party, "k1", "运费多少", received_at=at(1))
        await store_outbound(tx, party, "满99包邮", reply_to=first, now=at(1))
        await store_inbound(tx, neighbour, "k2", "能开发票吗", received_at=at(5))
        await store_inbound(tx, party, "k3", "几点下班", received_at=at(9))
        await store_inbound(tx, stranger, "k1", "别家的问题", received_at=at(9))
    async with store.transaction(readonly=True) as tx:
        everything = await tx.kb.inbound_questions(party.tenant.id, None, 10)
        recent = await tx.kb.inbound_questions(party.tenant.id, at(5), 10)
        newest = await tx.kb.inbound_questions(party.tenant.id, None, 1)
    assert [q.text for q in everything] == ["几点下班", "能开发票吗", "运费多少"]
    assert everything[-1].message_id == first.id
    assert everything[-1].created_at == at(1)
    assert [q.contact_id for q in everything] == [
        party.contact.id,
        neighbour.contact.id,
        party.contact.id,
    ], "who asked: the same customer twice, another once"
    assert [q.text for q in recent] == ["几点下班", "能开发票吗"]
    assert [q.text for q in newest] == ["几点下班"]
