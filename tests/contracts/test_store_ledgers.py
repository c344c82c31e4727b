"""The storage contract, part 3: knowledge entries, the audit chain and consents."""

from __future__ import annotations

from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.audit import GENESIS_HASH, AuditEntry, AuditHead
from kindbot.core.records.consent import ConsentStatus
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.guard.audit import AuditDraft, seal, verify_chain
from tests.contracts.builders import (
    T0,
    Party,
    at,
    make_contact,
    make_party,
    make_tenant,
    raises_in_transaction,
)

# --- knowledge -------------------------------------------------------------

HOURS = KnowledgeEntry(
    id="hours",
    question="營業時間是幾點？",
    answer="每天 09:00–18:00 營業 🕘",
    similar=("幾點開門", "今天有開嗎？", "opening hours"),
    tags=("營業", "store"),
)
REFUND = KnowledgeEntry(id="refund", question="可以退貨嗎？", answer="七天內可退貨。")
PARKING = KnowledgeEntry(
    id="parking", question="有停車場嗎？", answer="有，地下一樓。", similar=("停車",)
)


def by_id(entries: list[KnowledgeEntry]) -> dict[str, KnowledgeEntry]:
    return {e.id: e for e in entries}


async def test_knowledge_upsert_many_counts_created_updated_unchanged(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        assert await tx.knowledge.version(tenant.id) == 0
        assert await tx.knowledge.list(tenant.id) == []

    async with store.transaction() as tx:
        assert await tx.knowledge.upsert_many(tenant.id, [HOURS, REFUND]) == (2, 0, 0)
        assert await tx.knowledge.version(tenant.id) == 1

    async with store.transaction() as tx:
        assert await tx.knowledge.upsert_many(tenant.id, [HOURS, REFUND]) == (0, 0, 2)
        assert await tx.knowledge.version(tenant.id) == 1, "no change, no new version"

    edited = KnowledgeEntry(
        id="refund", question=REFUND.question, answer="十四天內可退貨。", tags=("售後",)
    )
    async with store.transaction() as tx:
        assert await tx.knowledge.upsert_many(tenant.id, [HOURS, edited, PARKING]) == (1, 1, 1)
        assert await tx.knowledge.version(tenant.id) == 2

    async with store.transaction() as tx:
        listed = await tx.knowledge.list(tenant.id)
    assert by_id(listed) == {"hours": HOURS, "refund": edited, "parking": PARKING}
    assert len(listed) == 3


async def test_knowledge_round_trips_tuples_and_unicode(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await make_tenant(tx)
        await tx.knowledge.upsert_many(tenant.id, [HOURS, REFUND])
    async with store.transaction() as tx:
        listed = by_id(await tx.knowledge.list(tenant.id))
    hours = listed["hours"]
    assert hours.similar == ("幾點開門", "今天有開嗎？", "opening hours")
    assert isinstance(hours.similar, tuple)
    assert hours.tags == ("營業", "store")
    assert isinstance(hours.tags, tuple)
    assert hours.answer == "每天 09:00–18:00 營業 🕘"
    assert listed["refund"].similar == ()
    assert listed["refund"].tags == ()


async def test_knowledge_is_per_tenant(store: Store) -> None:
    async with store.transaction() as tx:
        acme = await make_tenant(tx, "acme")
        other = await make_tenant(tx, "other")
        await tx.knowledge.upsert_many(acme.id, [HOURS])
        assert await tx.knowledge.upsert_many(other.id, [HOURS, REFUND]) == (2, 0, 0)
    async with store.transaction() as tx:
        assert await tx.knowledge.list(acme.id) == [HOURS]
        assert await tx.knowledge.version(acme.id) == 1
        assert len(await tx.knowledge.list(other.id)) == 2


# --- audit -----------------------------------------------------------------


def draft(tenant_id: str, n: int) -> AuditDraft:
    return AuditDraft(
        tenant_id=tenant_id,
        at=at(n, seconds=0.001 * n),
        kind="outbound",
        subject=f"message-{n}",
        rule="R1",
        decision="allow",
        detail=f"第 {n} 筆 ✓",
    )


async def append_next(tx: Transaction, tenant_id: str, n: int) -> AuditEntry:
    """Lock the head, seal the next entry after it and append it."""
    entry = seal(draft(tenant_id, n), await tx.audit.lock_head(tenant_id))
    await tx.audit.append(entry)
    return entry


async def test_lock_head_of_an_empty_chain_is_genesis(store: Store) -> None:
    async with store.transaction() as tx:
        head = await tx.audit.lock_head("acme-id")
        entries = await tx.audit.entries("acme-id", 0, 10)
    assert head == AuditHead(tenant_id="acme-id", seq=0, hash=GENESIS_HASH)
    assert entries == []


async def test_append_moves_the_head(store: Store) -> None:
    async with store.transaction() as tx:
        first = await append_next(tx, "acme-id", 1)
    assert first.seq == 1
    assert first.prev_hash == GENESIS_HASH
    async with store.transaction() as tx:
        head = await tx.audit.lock_head("acme-id")
        second = await append_next(tx, "acme-id", 2)
    assert head == AuditHead(tenant_id="acme-id", seq=1, hash=first.hash)
    assert second.prev_hash == first.hash
    async with store.transaction() as tx:
        assert await tx.audit.lock_head("acme-id") == AuditHead("acme-id", 2, second.hash)
        assert await tx.audit.entries("acme-id", 0, 10) == [first, second]


async def test_audit_entries_page_in_order(store: Store) -> None:
    appended = []
    for n in range(1, 6):
        async with store.transaction() as tx:
            appended.append(await append_next(tx, "acme-id", n))

    async with store.transaction() as tx:
        pages = [
            await tx.audit.entries("acme-id", 0, 2),
            await tx.audit.entries("acme-id", 2, 2),
            await tx.audit.entries("acme-id", 4, 2),
            await tx.audit.entries("acme-id", 5, 2),
        ]
    assert [[e.seq for e in page] for page in pages] == [[1, 2], [3, 4], [5], []]
    assert [e for page in pages for e in page] == appended, "entries round-trip unchanged"
    assert verify_chain([e for page in pages for e in page]) is None
    assert verify_chain(pages[1], start=AuditHead("acme-id", 2, appended[1].hash)) is None


async def test_audit_chains_are_per_tenant(store: Store) -> None:
    async with store.transaction() as tx:
        acme = await append_next(tx, "acme-id", 1)
        platform = await append_next(tx, "platform", 1)
        acme_2 = await append_next(tx, "acme-id", 2)
    assert platform.seq == 1
    assert platform.prev_hash == GENESIS_HASH
    async with store.transaction() as tx:
        assert await tx.audit.entries("acme-id", 0, 10) == [acme, acme_2]
        assert await tx.audit.entries("platform", 0, 10) == [platform]
        assert await tx.audit.entries("nobody", 0, 10) == []


async def test_duplicate_audit_seq_raises_and_rolls_back(store: Store) -> None:
    async with store.transaction() as tx:
        first = await append_next(tx, "acme-id", 1)

    async def fork_the_chain(tx: Transaction) -> None:
        await make_tenant(tx, "written-before-the-failure")
        forged = seal(draft("acme-id", 99), AuditHead("acme-id", 0, GENESIS_HASH))
        assert forged.seq == first.seq
        await tx.audit.append(forged)

    await raises_in_transaction(store, fork_the_chain)

    async with store.transaction() as tx:
        assert await tx.audit.entries("acme-id", 0, 10) == [first]
        assert await tx.audit.lock_head("acme-id") == AuditHead("acme-id", 1, first.hash)
        assert await tx.tenants.get_by_slug("written-before-the-failure") is None


async def test_duplicate_audit_seq_in_one_transaction_rolls_back_the_whole_append(
    store: Store,
) -> None:
    async def append_twice(tx: Transaction) -> None:
        head = await tx.audit.lock_head("acme-id")
        await tx.audit.append(seal(draft("acme-id", 1), head))
        await tx.audit.append(seal(draft("acme-id", 2), head))

    await raises_in_transaction(store, append_twice)

    async with store.transaction() as tx:
        assert await tx.audit.entries("acme-id", 0, 10) == []
        assert await tx.audit.lock_head("acme-id") == AuditHead("acme-id", 0, GENESIS_HASH)


# --- consents --------------------------------------------------------------


async def grant(store: Store, party: Party, topic: str, *, contact_id: str | None = None) -> None:
    async with store.transaction() as tx:
        await tx.consents.grant(
            tenant_id=party.tenant.id,
            contact_id=contact_id or party.contact.id,
            channel_id=party.channel.id,
            topic=topic,
            source="line:postback",
            wording="願意收到優惠訊息嗎？",
            now=T0,
        )


async def test_consent_grant_and_active(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        granted = await tx.consents.grant(
            tenant_id=party.tenant.id,
            contact_id=party.contact.id,
            channel_id=party.channel.id,
            topic="promotions",
            source="line:postback",
            wording="願意收到優惠訊息嗎？",
            now=at(1),
        )
    assert granted.status is ConsentStatus.ACTIVE
    assert (granted.tenant_id, granted.contact_id, granted.channel_id) == (
        party.tenant.id,
        party.contact.id,
        party.channel.id,
    )
    assert (granted.topic, granted.source, granted.wording) == (
        "promotions",
        "line:postback",
        "願意收到優惠訊息嗎？",
    )
    assert granted.granted_at == at(1)
    assert granted.withdrawn_at is None
    async with store.transaction() as tx:
        assert await tx.consents.active(party.contact.id) == [granted]
        assert await tx.consents.active("no-such-contact") == []


async def test_withdraw_all_withdraws_only_active_consents(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        bystander = await make_contact(tx, party.channel, "U2")
    await grant(store, party, "promotions")
    await grant(store, party, "news")
    await grant(store, party, "promotions", contact_id=bystander.id)

    async with store.transaction() as tx:
        assert await tx.consents.withdraw_all(party.contact.id, at(5)) == 2
    async with store.transaction() as tx:
        assert await tx.consents.active(party.contact.id) == []
        assert await tx.consents.withdraw_all(party.contact.id, at(6)) == 0, "nothing left"
        assert len(await tx.consents.active(bystander.id)) == 1, "other contacts untouched"

    await grant(store, party, "news")
    async with store.transaction() as tx:
        assert await tx.consents.withdraw_all(party.contact.id, at(7)) == 1
