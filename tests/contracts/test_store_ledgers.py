"""The storage contract, part 3: knowledge entries and consents (the audit chain: part 3b)."""

from __future__ import annotations

from kindbot.core.ports.seams import Store
from kindbot.core.records.consent import ConsentStatus
from kindbot.core.records.knowledge import KnowledgeEntry
from tests.contracts.builders import (
    T0,
    Party,
    at,
    make_contact,
    make_party,
    make_tenant,
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
