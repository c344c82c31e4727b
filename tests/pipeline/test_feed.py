"""The pipeline end to end on the real composition root (SQLite, demo bundle)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container
from kindbot.channels import console
from kindbot.core.events import InboundEvent, InboundKind
from kindbot.core.records.conversations import ConversationState, InboundStatus
from kindbot.core.records.outbox import OutboxStatus
from kindbot.core.records.tenancy import TenantStatus
from kindbot.guard.texts import DISCLOSURE_ZH
from kindbot.pipeline.recovery import resume_stale

WEB = "teashop.web"
GRACE = timedelta(seconds=30)


def event(text: str, *, key: str, sender: str = "visitor-1", channel: str = WEB) -> InboundEvent:
    return InboundEvent(
        channel_public_id=channel,
        sender=sender,
        kind=InboundKind.TEXT,
        text=text,
        idempotency_key=key,
        received_at=FakeClock().now(),
    )


async def test_knowledge_answer_with_disclosure_on_first_reply_only(container: Container) -> None:
    first = await container.pipeline.feed(event("运费怎么算", key="k1"), sync_grace=GRACE)
    second = await container.pipeline.feed(event("怎么查物流", key="k2"), sync_grace=GRACE)

    assert len(first.replies) == 1
    assert "99 元包邮" in first.replies[0].text
    assert first.replies[0].text.endswith(DISCLOSURE_ZH)
    assert "快递单号" in second.replies[0].text
    assert DISCLOSURE_ZH not in second.replies[0].text


async def test_low_confidence_says_unsure_and_offers_a_person(container: Container) -> None:
    result = await container.pipeline.feed(
        event("请介绍一下量子色动力学的渐近自由", key="k1"), sync_grace=GRACE
    )
    assert "不太确定" in result.replies[0].text
    assert "人工" in result.replies[0].text


async def test_english_question_gets_english_answer_and_disclosure(container: Container) -> None:
    result = await container.pipeline.feed(
        event("what is your return policy", key="k1"), sync_grace=GRACE
    )
    assert "returned within 7 days" in result.replies[0].text
    assert "AI assistant" in result.replies[0].text


async def test_duplicate_delivery_is_answered_from_the_first_outcome(container: Container) -> None:
    first = await container.pipeline.feed(event("运费怎么算", key="same"), sync_grace=GRACE)
    again = await container.pipeline.feed(event("运费怎么算", key="same"), sync_grace=GRACE)

    assert not first.duplicate
    assert again.duplicate
    assert again.inbound_message_id == first.inbound_message_id
    assert [r.message_id for r in again.replies] == [r.message_id for r in first.replies]
    async with container.store.transaction() as tx:
        history = await tx.messages.history(first.conversation_id, 50)
    assert len(history) == 2


async def test_concurrent_duplicates_process_once(container: Container) -> None:
    results = await asyncio.gather(
        *(container.pipeline.feed(event("发票", key="dup"), sync_grace=GRACE) for _ in range(8))
    )
    assert len({r.inbound_message_id for r in results}) == 1
    assert len({tuple(x.message_id for x in r.replies) for r in results}) == 1
    async with container.store.transaction() as tx:
        history = await tx.messages.history(results[0].conversation_id, 50)
    assert len(history) == 2


async def test_opt_out_withdraws_consent_and_confirms_once(container: Container) -> None:
    first = await container.pipeline.feed(event("订阅", key="in"), sync_grace=GRACE)
    async with container.store.transaction() as tx:
        assert len(await tx.consents.active(first.contact_id)) == 1

    out = await container.pipeline.feed(event("ＳＴＯＰ", key="out"), sync_grace=GRACE)

    assert len(out.replies) == 1
    assert "STOP" not in out.replies[0].text
    assert "unsubscribed" in out.replies[0].text
    async with container.store.transaction() as tx:
        assert await tx.consents.active(first.contact_id) == []


async def test_keyword_inside_a_sentence_is_not_an_opt_out(container: Container) -> None:
    result = await container.pipeline.feed(
        event("how do I stop my order from shipping", key="k"), sync_grace=GRACE
    )
    assert "unsubscribed" not in result.replies[0].text


async def test_only_questions_are_stored_for_kb_unanswered(container: Container) -> None:
    """A person request, opt-out and opt-in words, a bare number (a pick), a phone number,
    an order number or an emoji is not a knowledge-base question; questions are, answered
    or not (``kb unanswered`` re-asks them)."""
    texts = ["你们老板叫什么名字", "运费怎么算", "转人工", "退订", "订阅", "２", "13800138000"]
    texts += ["我的手机号是13912345678", "SO2026120100", "👍", "2号店几点开门"]
    for n, text in enumerate(texts):
        await container.pipeline.feed(
            event(text, key=f"q{n}", sender=f"visitor-{n}"), sync_grace=GRACE
        )
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        stored = await tx.kb.inbound_questions(tenant.id, None, 50)
    assert [q.text for q in stored] == ["2号店几点开门", "运费怎么算", "你们老板叫什么名字"]
    assert len({q.contact_id for q in stored}) == 3


async def test_asking_for_a_person_marks_the_conversation_waiting(container: Container) -> None:
    result = await container.pipeline.feed(event("转人工", key="h"), sync_grace=GRACE)
    assert "人工客服" in result.replies[0].text
    async with container.store.transaction() as tx:
        conversation = await tx.conversations.get(result.conversation_id)
    assert conversation is not None
    assert conversation.state is ConversationState.WAITING


async def test_every_verdict_is_audited_before_delivery(container: Container) -> None:
    result = await container.pipeline.feed(event("运费怎么算", key="k"), sync_grace=GRACE)
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        entries = await tx.audit.entries(tenant.id, 0, 100)
    kinds = [(e.kind, e.subject) for e in entries]
    assert ("inbound", f"message:{result.inbound_message_id}") in kinds
    assert ("outbound", f"message:{result.replies[0].message_id}") in kinds


async def test_suspended_tenant_records_inbound_but_sends_nothing(container: Container) -> None:
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        await tx.tenants.set_status(tenant.id, TenantStatus.SUSPENDED)

    result = await container.pipeline.feed(event("运费怎么算", key="k"), sync_grace=GRACE)

    assert result.replies == ()
    async with container.store.transaction() as tx:
        history = await tx.messages.history(result.conversation_id, 10)
        entries = await tx.audit.entries(tenant.id, 0, 100)
    assert [m.text for m in history] == ["运费怎么算"]
    assert any(e.rule == "tenant_status" and e.decision == "deny" for e in entries)


async def test_interrupted_message_is_resumed_and_delivered_by_the_outbox(
    container: Container, clock: FakeClock
) -> None:
    # A crash after the inbound commit: the message is stored, nothing else happened.
    resolved = await container.directory.by_public_id(WEB)
    async with container.store.transaction() as tx:
        contact = await tx.contacts.get_or_create(
            tenant_id=resolved.tenant.id,
            channel_id=resolved.channel.id,
            external_id="visitor-9",
            display_name=None,
            now=clock.now(),
        )
        conversation = await tx.conversations.get_or_open(
            tenant_id=resolved.tenant.id,
            channel_id=resolved.channel.id,
            contact_id=contact.id,
            now=clock.now(),
        )
        stored, _ = await tx.messages.insert_inbound(
            event=event("运费怎么算", key="crash", sender="visitor-9"),
            tenant_id=resolved.tenant.id,
            channel_id=resolved.channel.id,
            contact_id=contact.id,
            conversation_id=conversation.id,
        )

    assert await resume_stale(container.store, clock, container.pipeline) == 0  # not stale yet
    clock.advance(timedelta(minutes=2))
    assert await resume_stale(container.store, clock, container.pipeline) == 1
    assert await container.outbox_worker.run_once() == 1

    async with container.store.transaction() as tx:
        message = await tx.messages.lock_inbound(stored.id)
        replies = await tx.messages.replies_to(stored.id)
        item = await tx.outbox.for_message(replies[0].id)
    assert message.status == InboundStatus.PROCESSED
    assert item is not None
    assert item.status is OutboxStatus.DELIVERED


async def test_sync_replies_not_handed_over_are_delivered_after_the_grace(
    container: Container, clock: FakeClock
) -> None:
    result = await container.pipeline.feed(event("运费怎么算", key="k"), sync_grace=GRACE)

    assert await container.outbox_worker.run_once() == 0
    clock.advance(GRACE + timedelta(seconds=1))
    assert await container.outbox_worker.run_once() == 1
    async with container.store.transaction() as tx:
        item = await tx.outbox.for_message(result.replies[0].message_id)
    assert item is not None
    assert item.status is OutboxStatus.DELIVERED


async def test_console_channel_runs_the_same_pipeline(container: Container) -> None:
    channel = f"teashop.{console.LOCAL_ID}"
    result = await container.pipeline.feed(
        console.to_event(
            "茶叶怎么保存", channel_public_id=channel, user="me", now=FakeClock().now()
        ),
        sync_grace=GRACE,
    )
    assert "冷藏" in result.replies[0].text


@pytest.mark.parametrize("channel", ["nope.web", "teashop.nope"])
async def test_unknown_channel_is_refused(container: Container, channel: str) -> None:
    from kindbot.core.errors import NotFoundError

    with pytest.raises(NotFoundError):
        await container.pipeline.feed(event("hi", key="k", channel=channel), sync_grace=GRACE)


async def test_a_bot_echoing_our_reply_stops_the_loop(container: Container) -> None:
    first = await container.pipeline.feed(event("运费怎么算", key="k1"), sync_grace=GRACE)
    echo_text = first.replies[0].text
    echoed = await container.pipeline.feed(event(echo_text, key="k2"), sync_grace=GRACE)

    assert echoed.replies == ()
    async with container.store.transaction() as tx:
        conversation = await tx.conversations.get(first.conversation_id)
    assert conversation is not None
    assert conversation.state is ConversationState.WAITING
