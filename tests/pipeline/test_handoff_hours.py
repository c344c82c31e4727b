"""Asking for a person when nobody is online is answered honestly (issue 13, defect 8).

The demo tenant's service hours are Monday to Friday 09:00-18:00 and Saturday
10:00-16:00 (Asia/Shanghai); the test clock starts on Wednesday 2026-11-25
10:00 UTC, which is 18:00 in Shanghai — just closed.
"""

from __future__ import annotations

from datetime import timedelta

from tests.support.clock import FakeClock

from kindbot.bootstrap import Container
from kindbot.core.events import FeedResult, InboundEvent, InboundKind
from kindbot.core.records.conversations import ConversationState
from kindbot.core.records.tenancy import TenantRecord
from kindbot.dialogue.handoff import SOON_ZH
from kindbot.dialogue.responder import HANDOFF_ZH

GRACE = timedelta(seconds=30)


class Visitor:
    def __init__(self, container: Container, clock: FakeClock, sender: str = "v1") -> None:
        self.container, self.clock, self.sender, self.sent = container, clock, sender, 0
        self.last: FeedResult | None = None

    async def say(self, text: str) -> list[str]:
        self.sent += 1
        event = InboundEvent(
            channel_public_id="teashop.web",
            sender=self.sender,
            kind=InboundKind.TEXT,
            text=text,
            idempotency_key=f"{self.sender}-{self.sent}",
            received_at=self.clock.now(),
        )
        self.last = await self.container.pipeline.feed(event, sync_grace=GRACE)
        return [reply.text for reply in self.last.replies]

    async def state(self) -> tuple[ConversationState, str | None]:
        assert self.last is not None
        async with self.container.store.transaction(readonly=True) as tx:
            conversation = await tx.conversations.get(self.last.conversation_id)
            handoff = await tx.handoffs.get(self.last.conversation_id)
        assert conversation is not None
        return conversation.state, handoff.agent_id if handoff is not None else None


async def teashop(container: Container) -> TenantRecord:
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
    assert tenant is not None
    return tenant


async def test_nobody_online_is_said_honestly_and_the_bot_keeps_answering(
    container: Container, clock: FakeClock
) -> None:
    visitor = Visitor(container, clock)

    [asked] = await visitor.say("人工")
    assert "现在没有人工客服在线" in asked
    assert "11月26日（周四）09:00（Asia/Shanghai）上线" in asked
    assert "继续回答" in asked
    assert HANDOFF_ZH not in asked
    assert await visitor.state() == (ConversationState.WAITING, None)

    clock.advance(timedelta(minutes=1))
    [answer] = await visitor.say("运费怎么算")
    assert "99 元包邮" in answer
    assert await visitor.say("请介绍一下量子色动力学的渐近自由") == []  # no "not sure" loop
    assert (await visitor.state())[0] is ConversationState.WAITING

    tenant = await teashop(container)
    agent = await container.inbox.add_agent(tenant, "mei")
    await container.inbox.set_online(tenant, "mei", True)
    assert await visitor.state() == (ConversationState.HUMAN, agent.id)
    assert await visitor.say("运费怎么算") == []  # the person has it now


async def test_english_and_no_service_hours_name_no_time(
    container: Container, clock: FakeClock
) -> None:
    tenant = await teashop(container)
    async with container.store.transaction() as tx:
        await tx.tenants.set_service_hours(tenant.id, None)
    visitor = Visitor(container, clock)

    [asked] = await visitor.say("human")
    assert asked.startswith("Sorry, nobody from our team is available right now.")
    assert "as soon as someone is online" in asked
    assert "keep answering" in asked
    assert SOON_ZH not in asked


async def test_inside_service_hours_without_an_agent_names_no_time(
    container: Container, clock: FakeClock
) -> None:
    clock.advance(timedelta(hours=16))  # Thursday 10:00 in Shanghai: open, nobody online
    [asked] = await Visitor(container, clock).say("转人工")
    assert "现在没有人工客服在线" in asked
    assert SOON_ZH in asked


async def test_with_an_agent_online_the_person_takes_over_as_before(
    container: Container, clock: FakeClock
) -> None:
    tenant = await teashop(container)
    agent = await container.inbox.add_agent(tenant, "mei")
    await container.inbox.set_online(tenant, "mei", True)
    visitor = Visitor(container, clock)

    [asked] = await visitor.say("人工")
    assert asked.startswith(HANDOFF_ZH)
    assert await visitor.state() == (ConversationState.HUMAN, agent.id)
    assert await visitor.say("运费怎么算") == []
