"""A customer's behaviour never changes the tenant's standing (issue 13, defect 1).

Violations measure what the tenant tried (:mod:`kindbot.guard.attribution`);
these tests drive the real pipeline the way a flooding or mischievous
customer would and check the shop keeps its standing and keeps answering.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.support.clock import FakeClock
from tests.support.tenants import apply_approved

from kindbot.bootstrap import Container
from kindbot.core.events import FeedResult, InboundEvent, InboundKind
from kindbot.core.records.moderation import TermAction
from kindbot.core.records.tenancy import TenantStatus
from kindbot.guard.violations import SCORE_WINDOW

WEB = "teashop.web"
GRACE = timedelta(seconds=30)


async def say(
    container: Container, clock: FakeClock, text: str, key: str, *, sender: str = "v1"
) -> FeedResult:
    event = InboundEvent(
        channel_public_id=WEB,
        sender=sender,
        kind=InboundKind.TEXT,
        text=text,
        idempotency_key=key,
        received_at=clock.now(),
    )
    return await container.pipeline.feed(event, sync_grace=GRACE)


async def standing(container: Container, clock: FakeClock) -> tuple[TenantStatus, str, int]:
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        score = await tx.violations.score(tenant.id, clock.now() - SCORE_WINDOW)
    return tenant.status, tenant.standing, score


async def denials(container: Container, rule: str) -> int:
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        entries = await tx.audit.entries(tenant.id, 0, 10_000)
    return sum(1 for e in entries if e.rule == rule and e.decision == "deny")


async def deny_term(container: Container, term: str) -> None:
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        await tx.moderation_terms.add(
            tenant_id=tenant.id,
            term=term,
            category="gambling",
            action=TermAction.DENY,
            created_by="test",
            now=container.clock.now(),
        )


async def test_a_flooding_visitor_cannot_get_the_shop_suspended(
    container: Container, clock: FakeClock
) -> None:
    for i in range(70):  # one message every half second for 35 s
        await say(container, clock, "运费怎么算", f"flood-{i}")
        clock.advance(timedelta(seconds=0.5))

    assert await denials(container, "reply_burst") > 40, "the visitor is still throttled"
    assert await standing(container, clock) == (TenantStatus.ACTIVE, "ok", 0)
    other = await say(container, clock, "运费怎么算", "other-1", sender="v2")
    assert other.replies
    assert "99 元包邮" in other.replies[0].text


async def test_opt_out_storms_are_not_the_tenant_s_fault(
    container: Container, clock: FakeClock
) -> None:
    for i in range(30):
        await say(container, clock, "退订" if i % 2 else "订阅", f"storm-{i}")
        clock.advance(timedelta(seconds=1))

    assert await denials(container, "reply_burst") > 0
    assert await standing(container, clock) == (TenantStatus.ACTIVE, "ok", 0)


async def test_a_stranger_writing_to_a_pending_tenant_costs_it_nothing(
    container: Container, clock: FakeClock
) -> None:
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        await tx.tenants.set_status(tenant.id, TenantStatus.PENDING)

    for i in range(15):
        result = await say(container, clock, "运费怎么算", f"pending-{i}", sender=f"s{i}")
        assert result.replies == ()

    assert await denials(container, "tenant_status") == 15
    assert await standing(container, clock) == (TenantStatus.PENDING, "ok", 0)


async def test_echoing_the_bot_and_retrying_cost_nothing(
    container: Container, clock: FakeClock
) -> None:
    first = await say(container, clock, "运费怎么算", "k1")
    echoed = first.replies[0].text
    await say(container, clock, echoed, "k2")  # another bot repeating ours: a loop
    for _ in range(20):  # a platform retrying the same message
        again = await say(container, clock, "运费怎么算", "k1")
        assert again.duplicate

    assert await denials(container, "reply_burst") == 1  # the loop verdict, audited
    assert await standing(container, clock) == (TenantStatus.ACTIVE, "ok", 0)


async def test_customer_insults_are_recorded_not_charged(
    container: Container, clock: FakeClock
) -> None:
    for i in range(12):
        await say(container, clock, "你们客服都是傻逼吗", f"rude-{i}", sender=f"r{i}")

    assert await standing(container, clock) == (TenantStatus.ACTIVE, "ok", 0)


async def test_a_handler_echoing_the_customer_is_not_charged_its_own_words_are(
    container: Container, clock: FakeClock
) -> None:
    await deny_term(container, "黑彩票")
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        await tx.tenants.set_handlers(tenant.id, ["tests.support.echo_handlers"])

    echoed = await say(container, clock, "查询 黑彩票", "k1")
    assert echoed.replies == ()  # still refused
    assert await denials(container, "content") == 1
    assert await standing(container, clock) == (TenantStatus.ACTIVE, "ok", 0)

    own = await say(container, clock, "推荐", "k2")
    assert own.replies == ()
    assert (await standing(container, clock))[2] == 5  # the tenant's words: HIGH


async def test_tenant_knowledge_content_still_counts(
    container: Container, clock: FakeClock
) -> None:
    await deny_term(container, "包邮")
    result = await say(container, clock, "运费怎么算", "k1")
    assert result.replies == ()
    assert (await standing(container, clock))[2] == 5


FLOW_BUNDLE = """
tenant: {slug: echoshop, name: Echo, industry: retail}
channels:
  - {id: web, type: webchat}
flows:
  - name: lookup
    trigger: {keywords: [查单]}
    start: ask
    states:
      ask:
        prompt: 请输入单号。
        slot: {name: order, type: text}
        answer: 单号 {order} 已记录，我们会核实。
"""


async def test_a_flow_template_echoing_a_slot_is_not_charged(
    container: Container, clock: FakeClock, tmp_path: Path
) -> None:
    bundle = tmp_path / "echo.yaml"
    bundle.write_text(FLOW_BUNDLE, encoding="utf-8")
    await apply_report_and_term(container, bundle, clock)

    async def ask(text: str, key: str) -> FeedResult:
        event = InboundEvent(
            channel_public_id="echoshop.web",
            sender="v1",
            kind=InboundKind.TEXT,
            text=text,
            idempotency_key=key,
            received_at=clock.now(),
        )
        return await container.pipeline.feed(event, sync_grace=GRACE)

    assert "单号" in (await ask("查单", "k1")).replies[0].text
    answered = await ask("黑彩票", "k2")
    assert answered.replies == ()  # refused, not charged
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("echoshop")
        assert tenant is not None
        assert await tx.violations.score(tenant.id, clock.now() - SCORE_WINDOW) == 0


async def apply_report_and_term(container: Container, bundle: Path, clock: FakeClock) -> None:
    report = await apply_approved(container, bundle, clock.now())
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug(report.tenant_slug)
        assert tenant is not None
        await tx.moderation_terms.add(
            tenant_id=tenant.id,
            term="黑彩票",
            category="gambling",
            action=TermAction.DENY,
            created_by="test",
            now=clock.now(),
        )
