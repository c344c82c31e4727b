"""The storage contract, part 5: the guard's ledgers (tags, deferred sends, broadcasts,
violations, bulk planning reads)."""

from __future__ import annotations

from datetime import timedelta

from kindbot.core.ports.seams import Store
from kindbot.core.records.campaigns import BroadcastStatus
from kindbot.core.records.outbox import DeferredStatus
from tests.contracts.builders import T0, at, make_contact, make_party, store_inbound


async def test_tags_are_per_contact_and_idempotent(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        other = await make_contact(tx, party.channel, "U2")
        assert await tx.tags.add(party.tenant.id, party.contact.id, "vip")
        assert not await tx.tags.add(party.tenant.id, party.contact.id, "vip")
        assert await tx.tags.add(party.tenant.id, other.id, "vip")
        assert await tx.tags.add(party.tenant.id, other.id, "new")
    async with store.transaction() as tx:
        assert sorted(await tx.tags.contacts_with(party.tenant.id, "vip")) == sorted(
            [party.contact.id, other.id]
        )
        assert await tx.tags.remove(other.id, "vip")
        assert not await tx.tags.remove(other.id, "vip")
        assert await tx.tags.contacts_with(party.tenant.id, "vip") == [party.contact.id]
        assert await tx.tags.of_contact(other.id) == ["new"]


async def test_deferred_sends_are_claimed_once_until_settled(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        held = await tx.deferred.add(
            tenant_id=party.tenant.id,
            channel_id=party.channel.id,
            contact_id=party.contact.id,
            topic="news",
            text="上新了",
            broadcast_id=None,
            due_at=at(60),
            now=T0,
        )
    async with store.transaction() as tx:
        assert await tx.deferred.claim_due(at(59), at(61), 10) == []
        claimed = await tx.deferred.claim_due(at(60), at(62), 10)
    assert [d.id for d in claimed] == [held.id]
    async with store.transaction() as tx:  # leased: nobody else takes it meanwhile
        assert await tx.deferred.claim_due(at(61), at(63), 10) == []
        await tx.deferred.postpone(held.id, at(120))
    async with store.transaction() as tx:
        again = await tx.deferred.claim_due(at(120), at(122), 10)
        assert [(d.id, d.attempts) for d in again] == [(held.id, 1)]
        await tx.deferred.settle(held.id, DeferredStatus.SENT)
    async with store.transaction() as tx:
        assert await tx.deferred.claim_due(at(600), at(602), 10) == []
        assert await tx.deferred.waiting_for_tenant(party.tenant.id) == []


async def test_a_broadcast_is_approved_once(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        created = await tx.broadcasts.create(
            tenant_id=party.tenant.id,
            topic="news",
            text="上新了",
            tag="vip",
            recipients=1500,
            status=BroadcastStatus.AWAITING_APPROVAL,
            created_by="alice",
            now=T0,
        )
    async with store.transaction() as tx:
        assert await tx.broadcasts.approve(created.id, "bob")
        assert not await tx.broadcasts.approve(created.id, "carol")
        found = await tx.broadcasts.get(created.id)
    assert found is not None
    assert (found.status, found.approved_by) == (BroadcastStatus.SENT, "bob")


async def test_violations_score_a_window_until_forgiven(store: Store) -> None:
    party = await make_party(store)
    tenant_id = party.tenant.id
    async with store.transaction() as tx:
        for minutes, weight in ((0, 5), (10, 1), (20, 5)):
            await tx.violations.record(
                tenant_id=tenant_id,
                at=at(minutes),
                rule="consent",
                severity="high",
                weight=weight,
                subject="contact:x",
            )
    async with store.transaction() as tx:
        assert await tx.violations.score(tenant_id, T0) == 11
        assert await tx.violations.score(tenant_id, at(5)) == 6
        assert await tx.violations.forgive(tenant_id) == 3
        assert await tx.violations.score(tenant_id, T0 - timedelta(days=1)) == 0


async def test_plan_contacts_reads_follow_state_and_last_message(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        quiet = await make_contact(tx, party.channel, "U2")
        await tx.contacts.set_followed(quiet.id, False, T0)
        await store_inbound(tx, party, "k1", received_at=at(5))
    async with store.transaction(readonly=True) as tx:
        found = await tx.planning.plan_contacts(
            party.tenant.id, [party.contact.id, quiet.id, "missing"]
        )
    by_id = {p.contact_id: p for p in found}
    assert set(by_id) == {party.contact.id, quiet.id}
    assert by_id[quiet.id].followed is False
    assert by_id[quiet.id].last_inbound_at is None
    assert by_id[party.contact.id].external_id == "U1"


async def test_recent_violations_are_listed_newest_first_with_forgiven_ones(
    store: Store,
) -> None:
    party = await make_party(store)
    tenant_id = party.tenant.id
    async with store.transaction() as tx:
        for minutes, rule in ((0, "consent"), (10, "quiet_hours"), (20, "content")):
            await tx.violations.record(
                tenant_id=tenant_id,
                at=at(minutes),
                rule=rule,
                severity="low",
                weight=1,
                subject=f"contact:{rule}",
            )
        await tx.violations.forgive(tenant_id)
        await tx.violations.record(
            tenant_id=tenant_id, at=at(30), rule="content", severity="high", weight=5, subject="s"
        )
    async with store.transaction(readonly=True) as tx:
        recent = await tx.violations.recent(tenant_id, 3)
        assert await tx.violations.recent("other-tenant", 3) == []
    assert [(v.rule, v.weight, v.forgiven) for v in recent] == [
        ("content", 5, False),
        ("content", 1, True),
        ("quiet_hours", 1, True),
    ]
    assert recent[0].at == at(30)
