"""The storage contract: campaigns and their recipients (issue 16 §4), on every backend."""

from __future__ import annotations

from datetime import timedelta

from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.analytics import NewBusinessEvent
from kindbot.core.records.campaigns import (
    Arm,
    AudienceKind,
    CampaignRecord,
    CampaignStatus,
    ContactMoment,
    ContactMoney,
    NewRecipient,
    RecipientCount,
    RecipientStatus,
    Variant,
)
from kindbot.core.records.conversations import ContactRecord
from tests.contracts.builders import T0, Party, at, enqueue_reply, make_contact, make_party

VARIANTS = (Variant("A", "新茶上市：明前龙井", 2), Variant("B", "雨前龙井到店", 1))


async def make_campaign(
    tx: Transaction,
    party: Party,
    people: list[ContactRecord],
    *,
    campaign_id: str = "c" * 32,
    status: CampaignStatus = CampaignStatus.SCHEDULED,
    held: int = 1,
    starts_at: object = None,
) -> CampaignRecord:
    recipients = [
        NewRecipient(p.id, Arm.HOLDOUT, None, RecipientStatus.HOLDOUT)
        if index < held
        else NewRecipient(p.id, Arm.TREATMENT, "A" if index % 2 else "B", RecipientStatus.PLANNED)
        for index, p in enumerate(people)
    ]
    return await tx.campaigns.create(
        campaign_id=campaign_id,
        tenant_id=party.tenant.id,
        name="龙井上新",
        topic="new-tea",
        audience_kind=AudienceKind.TAG,
        audience_name="vip",
        variants=VARIANTS,
        holdout_share=0.25,
        attribution_days=7,
        starts_at=starts_at,  # type: ignore[arg-type]  # None or a datetime, by the caller
        per_minute=30,
        status=status,
        created_by="alice",
        recipients=recipients,
        now=T0,
    )


async def people_of(store: Store, count: int) -> tuple[Party, list[ContactRecord]]:
    party = await make_party(store)
    async with store.transaction() as tx:
        others = [await make_contact(tx, party.channel, f"U{i}") for i in range(2, count + 1)]
    return party, [party.contact, *others]


async def test_a_campaign_and_its_recipients_round_trip(store: Store) -> None:
    party, people = await people_of(store, 4)
    async with store.transaction() as tx:
        created = await make_campaign(tx, party, people)
    async with store.transaction(readonly=True) as tx:
        fetched = await tx.campaigns.get(created.id)
        listed = await tx.campaigns.for_tenant(party.tenant.id, 10)
        counts = await tx.campaigns.counts(created.id)
        rows = await tx.campaigns.recipients(created.id)
        assert await tx.campaigns.get("missing") is None

    assert fetched == created
    assert listed == [created]
    assert created.variants == VARIANTS
    assert (created.holdout_share, created.per_minute, created.attribution_days) == (0.25, 30, 7)
    assert (created.recipients, created.treatment) == (4, 3)
    assert (created.audience_kind, created.audience_name) == (AudienceKind.TAG, "vip")
    assert created.status is CampaignStatus.SCHEDULED
    assert (created.created_at, created.started_at, created.finished_at) == (T0, None, None)
    assert counts == [
        RecipientCount(Arm.HOLDOUT, RecipientStatus.HOLDOUT, 1),
        RecipientCount(Arm.TREATMENT, RecipientStatus.PLANNED, 3),
    ]
    assert [r.contact_id for r in rows] == sorted(p.id for p in people)
    held = [r for r in rows if r.arm is Arm.HOLDOUT]
    assert [(r.contact_id, r.variant, r.decided_at) for r in held] == [(people[0].id, None, T0)]


async def test_transitions_are_conditional(store: Store) -> None:
    party, people = await people_of(store, 2)
    async with store.transaction() as tx:
        campaign = await make_campaign(tx, party, people, status=CampaignStatus.AWAITING_APPROVAL)
        later = await make_campaign(tx, party, people, campaign_id="d" * 32, starts_at=at(30))
    async with store.transaction() as tx:
        leaving = (CampaignStatus.AWAITING_APPROVAL,)
        assert await tx.campaigns.transition(
            campaign.id, leaving=leaving, to=CampaignStatus.SCHEDULED, approved_by="bob"
        )
        assert not await tx.campaigns.transition(
            campaign.id, leaving=leaving, to=CampaignStatus.SCHEDULED, approved_by="eve"
        )
    async with store.transaction() as tx:
        assert await tx.campaigns.start_due(at(1)) == [campaign.id]  # ``later`` starts at 30
        assert await tx.campaigns.start_due(at(2)) == []
        assert await tx.campaigns.start_due(at(30)) == [later.id]
        sending = await tx.campaigns.sending()
    assert [(c.id, c.started_at) for c in sending] == [(campaign.id, at(1)), (later.id, at(30))]
    assert sending[0].approved_by == "bob"


async def test_recipients_are_decided_once_and_the_campaign_finishes_after(store: Store) -> None:
    party, people = await people_of(store, 4)
    async with store.transaction() as tx:
        campaign = await make_campaign(tx, party, people)
        await tx.campaigns.start_due(T0)
        message = (await enqueue_reply(tx, party, "新茶上市")).message_id
    async with store.transaction() as tx:
        planned = await tx.campaigns.planned(campaign.id, 2)
        assert [r.contact_id for r in planned] == sorted(p.id for p in people[1:])[:2]
        first = planned[0].contact_id
        assert await tx.campaigns.record_outcome(
            campaign.id,
            first,
            status=RecipientStatus.SENT,
            reason=None,
            at=at(1),
            message_id=message,
        )
        assert not await tx.campaigns.record_outcome(
            campaign.id, first, status=RecipientStatus.DENIED, reason="again", at=at(2)
        )
        assert await tx.campaigns.record_outcome(
            campaign.id, planned[1].contact_id, status=RecipientStatus.DENIED, reason="no", at=at(2)
        )
        assert await tx.campaigns.attempted_since(campaign.id, at(1)) == 2
        assert await tx.campaigns.attempted_since(campaign.id, at(1.5)) == 1
        assert not await tx.campaigns.finish_if_done(campaign.id, at(3))  # one still planned
        (last,) = await tx.campaigns.planned(campaign.id, 10)
        assert await tx.campaigns.record_outcome(
            campaign.id,
            last.contact_id,
            status=RecipientStatus.DEFERRED,
            reason="quiet hours",
            at=at(3),
            deferred_id="e" * 32,
        )
        assert not await tx.campaigns.finish_if_done(campaign.id, at(3))  # one deferred
        await tx.campaigns.follow_deferred("e" * 32, message_id=message, reason=None, at=at(600))
        assert await tx.campaigns.finish_if_done(campaign.id, at(601))
        assert not await tx.campaigns.finish_if_done(campaign.id, at(602))
    async with store.transaction(readonly=True) as tx:
        rows = {r.contact_id: r for r in await tx.campaigns.recipients(campaign.id)}
        finished = await tx.campaigns.get(campaign.id)
        delivered = await tx.campaigns.delivered(campaign.id)
    assert (rows[first].status, rows[first].sent_at, rows[first].message_id) == (
        RecipientStatus.SENT,
        at(1),
        message,
    )
    assert (
        rows[last.contact_id].status,
        rows[last.contact_id].sent_at,
        rows[last.contact_id].message_id,
    ) == (RecipientStatus.SENT, at(600), message)
    assert rows[planned[1].contact_id].reason == "no"
    assert finished is not None
    assert (finished.status, finished.finished_at) == (CampaignStatus.FINISHED, at(601))
    assert delivered == set()  # the message has not left yet


async def test_cancelling_skips_the_unsent_and_refuses_their_deferred_sends(store: Store) -> None:
    party, people = await people_of(store, 3)
    async with store.transaction() as tx:
        campaign = await make_campaign(tx, party, people, held=0)
        deferred = await tx.deferred.add(
            tenant_id=party.tenant.id,
            channel_id=party.channel.id,
            contact_id=people[0].id,
            topic="new-tea",
            text="新茶",
            broadcast_id=campaign.id,
            due_at=at(600),
            now=T0,
        )
        await tx.campaigns.record_outcome(
            campaign.id,
            people[0].id,
            status=RecipientStatus.DEFERRED,
            reason="quiet hours",
            at=T0,
            deferred_id=deferred.id,
        )
        await tx.campaigns.record_outcome(
            campaign.id, people[1].id, status=RecipientStatus.SENT, reason=None, at=T0
        )
    async with store.transaction() as tx:
        assert await tx.campaigns.skip_unsent(campaign.id, "cancelled by bob") == 2
        assert await tx.deferred.claim_due(at(601), at(603), 10) == []
        statuses = sorted(r.status.value for r in await tx.campaigns.recipients(campaign.id))
    assert statuses == ["sent", "skipped", "skipped"]
    async with store.transaction(readonly=True) as tx:
        assert await tx.deferred.waiting_for_tenant(party.tenant.id) == []


async def test_the_report_reads_only_the_recipients_facts_in_range(store: Store) -> None:
    party, people = await people_of(store, 2)
    async with store.transaction() as tx:
        stranger = await make_contact(tx, party.channel, "U9")
        campaign = await make_campaign(tx, party, people)
        events = [
            ("o1", "order", at(60), people[0].id, 12800),
            ("r1", "refund", at(120), people[0].id, 800),
            ("o2", "order", at(-1), people[1].id, 100),  # before the range
            ("o3", "order", at(90), stranger.id, 100),  # not a recipient
            ("s1", "signup", at(30), people[1].id, None),  # not money
        ]
        await tx.events.insert_new(
            party.tenant.id,
            [
                NewBusinessEvent(
                    event_id=event_id,
                    type=kind,
                    occurred_at=when,
                    contact_id=contact,
                    channel_id=party.channel.id,
                    amount_minor=amount,
                    currency="CNY" if amount is not None else None,
                    order_id=None,
                    properties_json=None,
                )
                for event_id, kind, when, contact, amount in events
            ],
            T0,
        )
        await tx.consents.grant(
            tenant_id=party.tenant.id,
            contact_id=people[1].id,
            channel_id=party.channel.id,
            topic="new-tea",
            source="widget",
            wording="通知我",
            now=T0 - timedelta(days=3),
        )
        await tx.consents.withdraw(people[1].id, "new-tea", at(45))
        await tx.contacts.set_opted_out(people[0].id, at(50))
        await tx.contacts.set_opted_out(stranger.id, at(50))
    async with store.transaction(readonly=True) as tx:
        money = await tx.campaigns.money(campaign.id, party.tenant.id, T0, at(24 * 60))
        opt_outs = await tx.campaigns.opt_outs(campaign.id, T0, at(24 * 60))
        later = await tx.campaigns.opt_outs(campaign.id, at(51), at(24 * 60))
        inbound = await tx.campaigns.inbound(campaign.id, T0, at(24 * 60))

    assert money == [
        ContactMoney(people[0].id, "order", at(60), 12800, "CNY"),
        ContactMoney(people[0].id, "refund", at(120), 800, "CNY"),
    ]
    assert sorted(opt_outs, key=lambda m: m.at) == [
        ContactMoment(people[1].id, at(45)),
        ContactMoment(people[0].id, at(50)),
    ]
    assert later == []
    assert inbound == []


async def test_erasing_a_contact_removes_its_recipient_rows(store: Store) -> None:
    party, people = await people_of(store, 2)
    async with store.transaction() as tx:
        campaign = await make_campaign(tx, party, people)
    async with store.transaction() as tx:
        await tx.contact_data.erase(people[0].id)
    async with store.transaction(readonly=True) as tx:
        rows = await tx.campaigns.recipients(campaign.id)
    assert [r.contact_id for r in rows] == [people[1].id]
