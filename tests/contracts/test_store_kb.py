"""Knowledge-base settings storage (``tx.kb``): synonyms, tuning, inbound questions,
sentence vectors.

Runs once per backend (the ``store`` fixture).
"""

from __future__ import annotations

from kindbot.core.ports.seams import Store
from kindbot.core.records.knowledge import KbTuning, StoredVector
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


def vector(digest: str, *values: float) -> StoredVector:
    data = b"".join(int.to_bytes(round(v * 1000), 4, "little", signed=True) for v in values)
    return StoredVector(digest, len(values), data)


async def test_vectors_are_kept_per_tenant_and_model_and_never_bump_the_version(
    store: Store,
) -> None:
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        other = await make_tenant(tx, "other")
        start = await tx.knowledge.version(tenant.id)
        assert await tx.kb.vectors(tenant.id, "m1") == []
        await tx.kb.add_vectors(tenant.id, "m1", [vector(a, 1, 2), vector(b, 3, 4)])
        await tx.kb.add_vectors(tenant.id, "m2", [vector(a, 5, 6, 7)])
        await tx.kb.add_vectors(other.id, "m1", [vector(c, 8, 9)])
        await tx.kb.add_vectors(tenant.id, "m1", [])
    async with store.transaction() as tx:
        # The same digest again (another process stored it first) is left as it was.
        await tx.kb.add_vectors(tenant.id, "m1", [vector(a, 0, 0), vector(c, 1, 1)])
    async with store.transaction(readonly=True) as tx:
        mine = sorted(await tx.kb.vectors(tenant.id, "m1"), key=lambda v: v.digest)
        assert mine == [vector(a, 1, 2), vector(b, 3, 4), vector(c, 1, 1)]
        assert await tx.kb.vectors(tenant.id, "m2") == [vector(a, 5, 6, 7)]
        assert await tx.kb.vectors(other.id, "m1") == [vector(c, 8, 9)]
        assert await tx.knowledge.version(tenant.id) == start


async def test_dropping_vectors_removes_those_texts_for_every_model_of_that_tenant_only(
    store: Store,
) -> None:
    a, b = "a" * 64, "b" * 64
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        other = await make_tenant(tx, "other")
        await tx.kb.add_vectors(tenant.id, "m1", [vector(a, 1), vector(b, 2)])
        await tx.kb.add_vectors(tenant.id, "m2", [vector(a, 3)])
        await tx.kb.add_vectors(other.id, "m1", [vector(a, 4)])
        many = [f"{n:064x}" for n in range(1200)]  # more than one statement's worth
        await tx.kb.add_vectors(tenant.id, "m3", [vector(d, 1) for d in many])
    async with store.transaction() as tx:
        assert await tx.kb.drop_vectors(tenant.id, [a, "f" * 64]) == 2
        assert await tx.kb.drop_vectors(tenant.id, many) == 1200
    async with store.transaction(readonly=True) as tx:
        assert await tx.kb.vectors(tenant.id, "m1") == [vector(b, 2)]
        assert await tx.kb.vectors(tenant.id, "m2") == []
        assert await tx.kb.vectors(tenant.id, "m3") == []
        assert await tx.kb.vectors(other.id, "m1") == [vector(a, 4)]


async def test_a_fitted_model_is_leased_saved_by_its_holder_only_and_replaced_by_newer(
    store: Store,
) -> None:
    start = at(seconds=0)
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        assert await tx.kb.model(tenant.id, "m") is None
        assert await tx.kb.claim_model(tenant.id, "m", 3, "a", start, at(seconds=300))
    async with store.transaction() as tx:
        # b cannot take a live lease, nor a's version; a's lease runs out at 300 s
        assert not await tx.kb.claim_model(tenant.id, "m", 3, "b", at(seconds=10), at(seconds=310))
        assert not await tx.kb.claim_model(tenant.id, "m", 2, "b", at(seconds=10), at(seconds=310))
        assert await tx.kb.claim_model(tenant.id, "m", 3, "b", at(seconds=301), at(seconds=600))
        # fencing: a lost the lease, so its save is refused; b's is kept
        assert not await tx.kb.save_model(tenant.id, "m", 3, "a", b"from a")
        assert await tx.kb.save_model(tenant.id, "m", 3, "b", b"from b")
        assert not await tx.kb.save_model(tenant.id, "m", 3, "b", b"again")
    async with store.transaction() as tx:
        stored = await tx.kb.model(tenant.id, "m")
        assert stored is not None
        assert (stored.kb_version, stored.holder, stored.payload) == (3, "b", b"from b")
        assert stored.lease_until is None
        # a saved model is never leased again for its version, even much later
        assert not await tx.kb.claim_model(
            tenant.id, "m", 3, "c", at(seconds=9999), at(seconds=99999)
        )
        assert await tx.kb.model(tenant.id, "other key") is None
        # a newer version takes the row over: the old model is gone
        assert await tx.kb.claim_model(tenant.id, "m", 4, "c", at(seconds=700), at(seconds=1000))
        leased = await tx.kb.model(tenant.id, "m")
        assert leased is not None
        assert (leased.kb_version, leased.holder, leased.payload) == (4, "c", None)
