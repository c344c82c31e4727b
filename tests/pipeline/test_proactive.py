"""Proactive sends, deferred sends, planning and broadcasts through the real container.

Each test runs on SQLite and PostgreSQL. The demo tenant (Asia/Shanghai)
starts approved; the clock starts 2026-11-25 10:00 UTC (18:00 local).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.support.clock import FakeClock
from tests.support.contacts import consent, outbound_texts, proactive_request, visitor

from kindbot.bootstrap import Container
from kindbot.bundles.tenants import reinstate_tenant
from kindbot.campaigns.planner import Audience
from kindbot.campaigns.proactive import run_due_deferred
from kindbot.core.errors import BadRequestError
from kindbot.core.events import Decision, InboundEvent, InboundKind, SendKind
from kindbot.core.records.campaigns import BroadcastStatus
from kindbot.core.records.tenancy import TenantStatus
from kindbot.guard.policy import TenantGuardSettings, settings_to_json

WEB = "teashop.web"
GRACE = timedelta(seconds=30)


async def test_no_consent_is_refused_and_weighed(container: Container, clock: FakeClock) -> None:
    contact = await visitor(container, clock, "v1")
    before = len(await outbound_texts(container, contact))

    outcome = await container.proactive.send(proactive_request(contact))

    assert outcome.decision is Decision.DENY
    assert outcome.verdict.rule == "consent"
    assert len(await outbound_texts(container, contact)) == before
    async with container.store.transaction(readonly=True) as tx:
        score = await tx.violations.score(contact.tenant_id, clock.now() - timedelta(days=1))
    assert score == 5


async def test_consent_allows_one_per_day(container: Container, clock: FakeClock) -> None:
    contact = await visitor(container, clock, "v1")
    await consent(container, contact, "new-tea")

    first = await container.proactive.send(proactive_request(contact))
    second = await container.proactive.send(proactive_request(contact, "再推一次"))

    assert first.decision is Decision.ALLOW
    assert first.message_id is not None
    assert second.decision is Decision.DENY
    assert second.verdict.rule == "frequency"
    texts = await outbound_texts(container, contact)
    assert any("明前龙井" in t for t in texts)
    assert not any("再推一次" in t for t in texts)


async def test_opt_out_withdrawsconsent(container: Container, clock: FakeClock) -> None:
    contact = await visitor(container, clock, "v1")
    await consent(container, contact, "new-tea")
    event = InboundEvent(
        channel_public_id=WEB,
        sender="v1",
        kind=InboundKind.TEXT,
        text="退订",
        idempotency_key="stop",
        received_at=clock.now(),
    )
    await container.pipeline.feed(event, sync_grace=GRACE)

    outcome = await container.proactive.send(proactive_request(contact))

    assert outcome.decision is Decision.DENY
    assert outcome.verdict.rule == "consent"


async def test_quiet_hours_defer_then_send_when_due(container: Container, clock: FakeClock) -> None:
    contact = await visitor(container, clock, "v1")
    await consent(container, contact, "new-tea")
    clock.advance(timedelta(hours=4))  # 22:00 in Shanghai

    outcome = await container.proactive.send(proactive_request(contact))

    assert outcome.decision is Decision.DEFER
    assert outcome.deferred_id is not None
    assert outcome.verdict.retry_at is not None
    assert await run_due_deferred(container.store, clock, container.proactive) == 0
    clock.current = outcome.verdict.retry_at
    await visitor(container, clock, "v1")  # the web session is open again in the morning
    assert await run_due_deferred(container.store, clock, container.proactive) == 1
    async with container.store.transaction(readonly=True) as tx:
        waiting = await tx.deferred.waiting_for_tenant(contact.tenant_id)
    assert waiting == []
    assert any("明前龙井" in t for t in await outbound_texts(container, contact))


async def test_deferred_send_refused_when_consent_is_gone(
    container: Container, clock: FakeClock
) -> None:
    contact = await visitor(container, clock, "v1")
    await consent(container, contact, "new-tea")
    clock.advance(timedelta(hours=4))
    outcome = await container.proactive.send(proactive_request(contact))
    async with container.store.transaction() as tx:
        await tx.consents.withdraw(contact.id, "new-tea", clock.now())
    assert outcome.verdict.retry_at is not None
    clock.current = outcome.verdict.retry_at

    assert await run_due_deferred(container.store, clock, container.proactive) == 1

    async with container.store.transaction(readonly=True) as tx:
        assert await tx.deferred.waiting_for_tenant(contact.tenant_id) == []
    assert not any("明前龙井" in t for t in await outbound_texts(container, contact))


async def test_repeated_violations_suspend_the_tenant(
    container: Container, clock: FakeClock
) -> None:
    contact = await visitor(container, clock, "v1")
    for _ in range(10):  # 10 sends without consent: 50 points
        await container.proactive.send(proactive_request(contact))

    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get(contact.tenant_id)
    assert tenant is not None
    assert tenant.status is TenantStatus.SUSPENDED
    await consent(container, contact, "new-tea")
    outcome = await container.proactive.send(proactive_request(contact))
    assert outcome.verdict.rule == "tenant_status"

    await reinstate_tenant(
        container.store, "teashop", reason="reviewed", actor="ops", now=clock.now()
    )
    async with container.store.transaction(readonly=True) as tx:
        assert await tx.violations.score(contact.tenant_id, clock.now() - timedelta(days=7)) == 0
        tenant = await tx.tenants.get(contact.tenant_id)
    assert tenant is not None
    assert tenant.standing == "ok"
    assert (await container.proactive.send(proactive_request(contact))).decision is Decision.ALLOW


async def test_explain_lists_every_rule_and_writes_nothing(
    container: Container, clock: FakeClock
) -> None:
    contact = await visitor(container, clock, "v1")

    decision = await container.proactive.explain(
        proactive_request(contact), kind=SendKind.PROACTIVE
    )

    assert decision.verdict.rule == "consent"
    rules = {check.rule for check in decision.checks}
    assert {"tenant_status", "window", "consent", "frequency", "quiet_hours"} <= rules
    async with container.store.transaction(readonly=True) as tx:
        assert await tx.violations.score(contact.tenant_id, clock.now() - timedelta(1)) == 0


async def test_plan_counts_reasons_with_samples(container: Container, clock: FakeClock) -> None:
    people = [await visitor(container, clock, f"v{i}") for i in range(5)]
    for person in people[:3]:
        await consent(container, person, "new-tea")
    async with container.store.transaction() as tx:
        for person in people:
            await tx.tags.add(person.tenant_id, person.id, "vip")
    await container.proactive.send(proactive_request(people[0]))  # uses its daily cap

    planned = await container.planner.plan(
        "teashop", Audience(tag="vip"), topic="new-tea", text="新茶"
    )

    plan = planned.plan
    assert (plan.total, plan.allowed, plan.deferred, plan.denied) == (5, 2, 0, 3)
    by_rule = {(line.decision, line.rule): line for line in plan.lines}
    assert by_rule[(Decision.DENY, "consent")].count == 2
    assert set(by_rule[(Decision.DENY, "consent")].samples) == {people[3].id, people[4].id}
    assert by_rule[(Decision.DENY, "frequency")].samples == (people[0].id,)


async def test_big_broadcast_waits_for_a_second_person(
    container: Container, clock: FakeClock
) -> None:
    people = [await visitor(container, clock, f"v{i}") for i in range(3)]
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get(people[0].tenant_id)
        assert tenant is not None
        await tx.tenants.set_guard(
            tenant.id, settings_to_json(TenantGuardSettings(human_confirm_over=2))
        )
        for person in people:
            await tx.tags.add(person.tenant_id, person.id, "vip")
    for person in people[:2]:
        await consent(container, person, "new-tea")

    started = await container.broadcasts.create(
        "teashop", tag="vip", topic="new-tea", text="新茶上市", created_by="alice"
    )
    assert started.broadcast.status is BroadcastStatus.AWAITING_APPROVAL
    with pytest.raises(BadRequestError):
        await container.broadcasts.deliver(started.broadcast.id)
    with pytest.raises(BadRequestError):
        await container.broadcasts.approve(started.broadcast.id, "alice")

    await container.broadcasts.approve(started.broadcast.id, "bob")
    tally = await container.broadcasts.deliver(started.broadcast.id)

    assert (tally.attempted, tally.allowed) == (2, 2)  # the third never opted in
    assert any("新茶上市" in t for t in await outbound_texts(container, people[0]))
    assert not any("新茶上市" in t for t in await outbound_texts(container, people[2]))
