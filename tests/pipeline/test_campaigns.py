"""Campaigns with a holdout through the real container: recording, approval, delivery through
the guard in the worker's passes, quiet hours, the throttle, restarts and cancellation.

Each test runs on SQLite and PostgreSQL. The demo tenant (Asia/Shanghai)
starts approved; the clock starts 2026-11-25 10:00 UTC (18:00 local).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from tests.support.clock import FakeClock
from tests.support.contacts import consent, outbound_texts, visitor

from kindbot.bootstrap import Container, open_container
from kindbot.campaigns.audiences import AudienceSpec
from kindbot.campaigns.delivery import PassTally
from kindbot.campaigns.proactive import run_due_deferred
from kindbot.campaigns.service import CampaignDraft
from kindbot.core.errors import BadRequestError, NotFoundError
from kindbot.core.records.campaigns import (
    Arm,
    CampaignRecipient,
    CampaignStatus,
    RecipientStatus,
    Variant,
)
from kindbot.core.records.conversations import ContactRecord
from kindbot.guard.policy import TenantGuardSettings, settings_to_json
from kindbot.ops.campaigns import campaign_report
from kindbot.settings import Settings

TEXT_A = "新茶上市：明前龙井"
TEXT_B = "新茶到店：雨前龙井"


async def audience(
    container: Container, clock: FakeClock, count: int, *, consenting: int | None = None
) -> list[ContactRecord]:
    """``count`` web chat visitors tagged ``vip``; the first ``consenting`` opted in to new-tea."""
    people = [await visitor(container, clock, f"v{i:02d}") for i in range(count)]
    async with container.store.transaction() as tx:
        for person in people:
            await tx.tags.add(person.tenant_id, person.id, "vip")
    for person in people[: count if consenting is None else consenting]:
        await consent(container, person, "new-tea")
    return people


def draft(**changes: object) -> CampaignDraft:
    base = CampaignDraft(
        name="龙井上新",
        topic="new-tea",
        audience=AudienceSpec(tag="vip"),
        variants=(Variant("A", TEXT_A), Variant("B", TEXT_B)),
        holdout_share=0.2,
    )
    fields = {name: getattr(base, name) for name in base.__dataclass_fields__}
    fields.update(changes)
    return CampaignDraft(**fields)  # type: ignore[arg-type]  # the test's own overrides


async def recipients(container: Container, campaign_id: str) -> list[CampaignRecipient]:
    async with container.store.transaction(readonly=True) as tx:
        return await tx.campaigns.recipients(campaign_id)


async def campaign_texts(container: Container, person: ContactRecord) -> list[str]:
    return [t for t in await outbound_texts(container, person) if t in (TEXT_A, TEXT_B)]


async def drain(container: Container) -> PassTally:
    """Worker passes until one decides nothing; the tallies summed."""
    total = PassTally()
    while True:
        tally = await container.campaign_delivery.run_once()
        total = PassTally(
            started=total.started + tally.started,
            sent=total.sent + tally.sent,
            deferred=total.deferred + tally.deferred,
            denied=total.denied + tally.denied,
            finished=total.finished + tally.finished,
        )
        if tally.decided == 0:
            return total


async def test_the_holdout_is_recorded_before_sending_and_never_messaged(
    container: Container, clock: FakeClock
) -> None:
    people = await audience(container, clock, 10)

    created = await container.campaigns.create("teashop", draft(), created_by="alice")
    campaign = created.campaign
    before = await recipients(container, campaign.id)

    assert campaign.status is CampaignStatus.SCHEDULED
    assert (campaign.recipients, campaign.treatment) == (10, 8)
    assert {r.contact_id for r in before} == {p.id for p in people}
    held = {r.contact_id for r in before if r.arm is Arm.HOLDOUT}
    assert len(held) == 2
    assert all(
        r.status is RecipientStatus.HOLDOUT and r.variant is None
        for r in before
        if r.contact_id in held
    )
    treated = [r for r in before if r.arm is Arm.TREATMENT]
    assert sorted(r.variant or "" for r in treated) == ["A"] * 4 + ["B"] * 4
    assert all(r.status is RecipientStatus.PLANNED for r in treated)
    assert [await campaign_texts(container, p) for p in people] == [[]] * len(people)

    tally = await drain(container)

    assert (tally.started, tally.sent, tally.denied, tally.finished) == (1, 8, 0, 1)
    after = {r.contact_id: r for r in await recipients(container, campaign.id)}
    for person in people:
        texts = await campaign_texts(container, person)
        if person.id in held:
            assert texts == []
            assert after[person.id].status is RecipientStatus.HOLDOUT
        else:
            variant = after[person.id].variant
            assert texts == [TEXT_A if variant == "A" else TEXT_B]
            assert after[person.id].status is RecipientStatus.SENT
            assert after[person.id].sent_at == clock.now()
            assert after[person.id].message_id is not None
    shown, _ = await container.campaigns.get("teashop", campaign.id)
    assert shown.status is CampaignStatus.FINISHED
    assert shown.started_at == clock.now()
    assert shown.finished_at == clock.now()
    while await container.outbox_worker.run_once():
        pass
    report = await campaign_report(container.store, container.clock, "teashop", campaign.id)
    assert (report.treatment.sent, report.treatment.delivered) == (8, 8)
    assert (report.holdout.size, report.holdout.sent, report.holdout.delivered) == (2, 0, 0)


async def test_a_big_campaign_waits_for_a_second_person(
    container: Container, clock: FakeClock
) -> None:
    people = await audience(container, clock, 4)
    async with container.store.transaction() as tx:
        await tx.tenants.set_guard(
            people[0].tenant_id, settings_to_json(TenantGuardSettings(human_confirm_over=2))
        )

    created = await container.campaigns.create(
        "teashop", draft(holdout_share=0.25), created_by="alice"
    )
    campaign = created.campaign
    assert campaign.status is CampaignStatus.AWAITING_APPROVAL
    assert (await drain(container)).decided == 0
    with pytest.raises(BadRequestError) as same:
        await container.campaigns.approve("teashop", campaign.id, "alice")
    assert same.value.code == "same_approver"

    approved = await container.campaigns.approve("teashop", campaign.id, "bob")
    assert (approved.status, approved.approved_by) == (CampaignStatus.SCHEDULED, "bob")
    with pytest.raises(BadRequestError) as again:
        await container.campaigns.approve("teashop", campaign.id, "carol")
    assert again.value.code == "not_awaiting"

    tally = await drain(container)
    assert (tally.sent, tally.finished) == (3, 1)


async def test_refused_by_the_plan_is_not_attempted_and_costs_nothing(
    container: Container, clock: FakeClock
) -> None:
    people = await audience(container, clock, 5, consenting=3)

    created = await container.campaigns.create(
        "teashop", draft(holdout_share=0.0), created_by="alice"
    )
    tally = await drain(container)

    assert (tally.sent, tally.denied, tally.finished) == (3, 2, 1)
    rows = {r.contact_id: r for r in await recipients(container, created.campaign.id)}
    for person in people[3:]:
        assert rows[person.id].status is RecipientStatus.DENIED
        assert (rows[person.id].reason or "").startswith("plan: ")
        assert await campaign_texts(container, person) == []
    async with container.store.transaction(readonly=True) as tx:
        score = await tx.violations.score(people[0].tenant_id, clock.now() - timedelta(days=1))
    assert score == 0


async def test_quiet_hours_defer_and_the_recipient_follows_its_deferred_send(
    container: Container, clock: FakeClock
) -> None:
    people = await audience(container, clock, 2)
    created = await container.campaigns.create(
        "teashop", draft(holdout_share=0.0), created_by="alice"
    )
    clock.current = clock.current.replace(hour=14)  # 22:00 in Shanghai

    tally = await drain(container)

    assert (tally.deferred, tally.finished) == (2, 0)
    rows = await recipients(container, created.campaign.id)
    assert all(r.status is RecipientStatus.DEFERRED and r.deferred_id for r in rows)
    assert [await campaign_texts(container, p) for p in people] == [[]] * len(people)

    clock.current = clock.current.replace(hour=1) + timedelta(days=1)  # 09:00 next day
    assert await run_due_deferred(container.store, container.clock, container.proactive) == 2
    tally = await drain(container)

    assert tally.finished == 1
    rows = await recipients(container, created.campaign.id)
    assert all(r.status is RecipientStatus.SENT and r.sent_at == clock.now() for r in rows)
    assert all(r.message_id is not None for r in rows)
    assert [len(await campaign_texts(container, p)) for p in people] == [1] * len(people)


async def test_a_scheduled_start_waits_for_its_time(container: Container, clock: FakeClock) -> None:
    await audience(container, clock, 2)
    starts = clock.now() + timedelta(minutes=30)
    created = await container.campaigns.create(
        "teashop", draft(holdout_share=0.0, starts_at=starts), created_by="alice"
    )

    assert (await drain(container)).started == 0
    clock.advance(timedelta(minutes=30))
    tally = await drain(container)

    assert (tally.started, tally.sent, tally.finished) == (1, 2, 1)
    shown, _ = await container.campaigns.get("teashop", created.campaign.id)
    assert shown.started_at == starts


async def test_the_throttle_spreads_sends_and_a_restart_resumes_without_duplicates(
    container: Container, clock: FakeClock, settings: Settings
) -> None:
    people = await audience(container, clock, 7)
    created = await container.campaigns.create(
        "teashop", draft(holdout_share=0.0, per_minute=3), created_by="alice"
    )

    first = await drain(container)
    assert (first.sent, first.finished) == (3, 0)

    # Another process (a restarted worker) on the same database picks up where it stopped.
    async with open_container(settings, clock=clock) as restarted:
        assert (await drain(restarted)).sent == 0  # the minute's budget is spent
        clock.advance(timedelta(seconds=61))
        assert (await drain(restarted)).sent == 3
        clock.advance(timedelta(seconds=61))
        last = await drain(restarted)
    assert (last.sent, last.finished) == (1, 1)

    rows = await recipients(container, created.campaign.id)
    assert all(r.status is RecipientStatus.SENT for r in rows)
    for person in people:
        assert len(await campaign_texts(container, person)) == 1


async def test_a_recipient_another_worker_decided_is_not_sent_again(
    container: Container, clock: FakeClock
) -> None:
    people = await audience(container, clock, 3)
    created = await container.campaigns.create(
        "teashop", draft(holdout_share=0.0), created_by="alice"
    )
    await container.campaign_delivery.run_once()  # starts it and sends to all three
    taken = people[0]
    async with container.store.transaction() as tx:
        again = await tx.campaigns.record_outcome(
            created.campaign.id,
            taken.id,
            status=RecipientStatus.SENT,
            reason=None,
            at=clock.now(),
        )
    assert again is False  # no longer planned: a second decision is refused
    assert len(await campaign_texts(container, taken)) == 1


async def test_cancel_stops_what_is_not_sent(container: Container, clock: FakeClock) -> None:
    people = await audience(container, clock, 4)
    created = await container.campaigns.create(
        "teashop", draft(holdout_share=0.0, per_minute=1), created_by="alice"
    )
    await container.campaign_delivery.run_once()  # one sent, the throttle holds the rest

    cancelled = await container.campaigns.cancel("teashop", created.campaign.id, "bob")
    clock.advance(timedelta(minutes=5))
    await drain(container)

    assert (cancelled.status, cancelled.cancelled_by) == (CampaignStatus.CANCELLED, "bob")
    statuses = sorted(r.status.value for r in await recipients(container, created.campaign.id))
    assert statuses == ["sent", "skipped", "skipped", "skipped"]
    assert sum([len(await campaign_texts(container, p)) for p in people]) == 1
    with pytest.raises(BadRequestError) as twice:
        await container.campaigns.cancel("teashop", created.campaign.id, "bob")
    assert twice.value.code == "not_cancellable"


async def test_bad_campaigns_are_refused_naming_the_field(
    container: Container, clock: FakeClock
) -> None:
    await audience(container, clock, 1)
    cases = [
        (draft(holdout_share=0.6), "holdout_share"),
        (draft(variants=()), "variants"),
        (draft(variants=(Variant("A", "x"), Variant("A", "y"))), "variants"),
        (draft(variants=(Variant("A", "x", 0),)), "weight"),
        (draft(attribution_days=0), "attribution_days"),
        (draft(per_minute=0), "per_minute"),
        (draft(name=" "), "name"),
        (draft(audience=AudienceSpec()), "audience"),
        (draft(audience=AudienceSpec(tag="vip", segment="s")), "audience"),
    ]
    for bad, field in cases:
        with pytest.raises(BadRequestError) as refused:
            await container.campaigns.create("teashop", bad, created_by="alice")
        assert field in str(refused.value), field
    with pytest.raises(BadRequestError) as empty:
        await container.campaigns.create(
            "teashop", draft(audience=AudienceSpec(tag="nobody")), created_by="alice"
        )
    assert empty.value.code == "empty_audience"
    with pytest.raises(NotFoundError) as segment:
        await container.campaigns.create(
            "teashop", draft(audience=AudienceSpec(segment="loyal")), created_by="alice"
        )
    assert segment.value.code == "unknown_segment"
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        assert await tx.campaigns.for_tenant(tenant.id, 10) == []


async def test_a_segment_resolver_supplies_the_audience(
    container: Container, clock: FakeClock
) -> None:
    people = await audience(container, clock, 3)
    asked: list[tuple[str, str]] = []

    async def resolve(tenant_id: str, name: str) -> list[str]:
        asked.append((tenant_id, name))
        return [people[0].id, people[2].id]

    container.campaigns.segments = resolve
    created = await container.campaigns.create(
        "teashop", draft(audience=AudienceSpec(segment="loyal"), holdout_share=0.0), created_by="a"
    )

    assert asked == [(people[0].tenant_id, "loyal")]
    assert (created.campaign.audience_kind.value, created.campaign.audience_name) == (
        "segment",
        "loyal",
    )
    ids = {r.contact_id for r in await recipients(container, created.campaign.id)}
    assert ids == {people[0].id, people[2].id}


async def test_the_workers_loop_sends_a_campaign(container: Container, clock: FakeClock) -> None:
    people = await audience(container, clock, 3)
    created = await container.campaigns.create(
        "teashop", draft(holdout_share=0.0), created_by="alice"
    )

    # What ``kindbot worker`` runs (Container.start_workers): an owned loop, drained on close.
    container.supervisor.start("campaigns", container.campaign_delivery.run)
    for _ in range(250):
        shown, _ = await container.campaigns.get("teashop", created.campaign.id)
        if shown.status is CampaignStatus.FINISHED:
            break
        await asyncio.sleep(0.02)

    assert shown.status is CampaignStatus.FINISHED
    assert [len(await campaign_texts(container, p)) for p in people] == [1, 1, 1]


async def test_a_worker_killed_midway_resumes_without_duplicates(
    container: Container, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = await audience(container, clock, 6)
    created = await container.campaigns.create(
        "teashop", draft(holdout_share=0.0), created_by="alice"
    )
    real_send = container.proactive.send
    calls = 0

    async def dies_on_the_fourth(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise RuntimeError("the worker's process was killed")
        return await real_send(*args, **kwargs)

    monkeypatch.setattr(container.proactive, "send", dies_on_the_fourth)
    with pytest.raises(RuntimeError, match="killed"):
        await container.campaign_delivery.run_once()
    statuses = sorted(r.status.value for r in await recipients(container, created.campaign.id))
    assert statuses == ["planned"] * 3 + ["sent"] * 3

    monkeypatch.setattr(container.proactive, "send", real_send)  # the restarted worker
    tally = await drain(container)

    assert (tally.sent, tally.finished) == (3, 1)
    assert [len(await campaign_texts(container, p)) for p in people] == [1] * 6
