"""Table tests of the guard's pure decisions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kindbot.core.events import (
    Decision,
    InboundAction,
    InboundKind,
    OutboundAction,
    OutboundReply,
    ReplyOrigin,
    SendKind,
)
from kindbot.core.records.tenancy import TenantStatus
from kindbot.guard.facts import OutboundFacts
from kindbot.guard.rules import AIGC_LABEL_ZH, decide_inbound, decide_outbound
from kindbot.guard.texts import DISCLOSURE_EN, DISCLOSURE_ZH

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def action(text: str, origin: ReplyOrigin = ReplyOrigin.KNOWLEDGE) -> OutboundAction:
    return OutboundAction(
        tenant_id="t",
        channel_id="c",
        channel_kind="webchat",
        contact_id="u",
        conversation_id="v",
        kind=SendKind.REPLY,
        reply=OutboundReply(text, origin),
    )


def facts(
    *, status: TenantStatus = TenantStatus.ACTIVE, sent: int = 0, test_contact: bool = False
) -> OutboundFacts:
    return OutboundFacts(
        tenant_status=status,
        contact_is_test=test_contact,
        bot_messages_in_conversation=sent,
        prefer_chinese=True,
    )


@pytest.mark.parametrize(
    ("status", "test_contact", "decision"),
    [
        (TenantStatus.ACTIVE, False, Decision.ALLOW),
        (TenantStatus.SUSPENDED, False, Decision.DENY),
        (TenantStatus.SUSPENDED, True, Decision.DENY),
        (TenantStatus.PENDING, False, Decision.DENY),
        (TenantStatus.PENDING, True, Decision.ALLOW),
    ],
)
def test_tenant_status(status: TenantStatus, test_contact: bool, decision: Decision) -> None:
    outcome = decide_outbound(action("你好"), facts(status=status, test_contact=test_contact), NOW)
    assert outcome.verdict.decision is decision
    if decision is Decision.DENY:
        assert outcome.verdict.rule == "tenant_status"
        assert outcome.verdict.reason_zh
        assert outcome.verdict.reason_en
        assert outcome.verdict.remedy_en


@pytest.mark.parametrize(
    ("text", "sent", "expected_suffix"),
    [
        ("满99元包邮", 0, DISCLOSURE_ZH),
        ("We ship free over 99 yuan", 0, DISCLOSURE_EN),
        ("满99元包邮", 1, None),
    ],
)
def test_disclosure_on_the_first_bot_message_only(
    text: str, sent: int, expected_suffix: str | None
) -> None:
    outcome = decide_outbound(action(text), facts(sent=sent), NOW)
    assert outcome.verdict.allowed
    if expected_suffix is None:
        assert outcome.reply.text == text
    else:
        assert outcome.reply.text == f"{text}\n{expected_suffix}"
    assert [c.rule for c in outcome.checks] == [
        "tenant_status",
        "content",
        "group",
        "window",
        "consent",
        "frequency",
        "quiet_hours",
        "reply_burst",
        "human_confirm",
        "disclosure",
    ]


def test_generated_text_always_carries_the_aigc_label() -> None:
    outcome = decide_outbound(action("建议冷藏保存", ReplyOrigin.GENERATED), facts(sent=3), NOW)
    assert outcome.reply.text.startswith(AIGC_LABEL_ZH)


def test_denied_reply_is_not_amended() -> None:
    outcome = decide_outbound(action("hi"), facts(status=TenantStatus.SUSPENDED), NOW)
    assert outcome.reply.text == "hi"


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        (InboundKind.TEXT, "退订", InboundAction.OPT_OUT),
        (InboundKind.TEXT, "STOP", InboundAction.OPT_OUT),
        (InboundKind.TEXT, "订阅", InboundAction.OPT_IN),
        (InboundKind.TEXT, "运费多少", InboundAction.CONTINUE),
        (InboundKind.IMAGE, "退订", InboundAction.CONTINUE),
    ],
)
def test_inbound_keywords(kind: InboundKind, text: str, expected: InboundAction) -> None:
    decision = decide_inbound(kind, text, prefer_chinese=True)
    assert decision.action is expected
    if expected is not InboundAction.CONTINUE:
        assert len(decision.replies) == 1


def test_opt_out_confirmation_follows_the_language_of_the_keyword() -> None:
    assert (
        "unsubscribed"
        in decide_inbound(InboundKind.TEXT, "STOP", prefer_chinese=True).replies[0].text
    )
    assert "退订" in decide_inbound(InboundKind.TEXT, "退订", prefer_chinese=False).replies[0].text


def test_unfollowed_contact_receives_nothing() -> None:
    unfollowed = OutboundFacts(
        tenant_status=TenantStatus.ACTIVE,
        contact_is_test=False,
        bot_messages_in_conversation=0,
        prefer_chinese=True,
        contact_followed=False,
    )
    outcome = decide_outbound(action("你好"), unfollowed, NOW)
    assert outcome.verdict.decision is Decision.DENY
    assert outcome.verdict.rule == "window"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("subscribe", InboundAction.FOLLOW),
        ("unsubscribe", InboundAction.UNFOLLOW),
        ("TEMPLATESENDJOBFINISH", InboundAction.IGNORE),
        ("LOCATION", InboundAction.IGNORE),
        (None, InboundAction.IGNORE),
    ],
)
def test_platform_events_are_recorded_not_chatted_with(
    event: str | None, expected: InboundAction
) -> None:
    decision = decide_inbound(InboundKind.EVENT, "[event]", prefer_chinese=True, event=event)
    assert decision.action is expected
    assert decision.replies == ()


def test_an_echo_of_a_recent_bot_message_is_a_loop() -> None:
    bot = "单笔订单满 99 元包邮（港澳台及海外除外）"
    looped = decide_inbound(InboundKind.TEXT, bot, prefer_chinese=True, recent_bot_texts=[bot])
    short = decide_inbound(InboundKind.TEXT, "好的", prefer_chinese=True, recent_bot_texts=["好的"])
    other = decide_inbound(
        InboundKind.TEXT, "运费多少", prefer_chinese=True, recent_bot_texts=[bot]
    )
    assert looped.action is InboundAction.LOOP
    assert looped.verdict.decision is Decision.DENY
    assert short.action is InboundAction.CONTINUE
    assert other.action is InboundAction.CONTINUE
