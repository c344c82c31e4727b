"""Table tests of violation attribution: what a denial is charged to the tenant for."""

from __future__ import annotations

import pytest

from kindbot.core.events import InboundAction, InboundKind, ReplyOrigin, SendKind, Severity
from kindbot.core.screening import ContentCategory, ScreeningMatch
from kindbot.guard.attribution import (
    Initiator,
    charged_to_tenant,
    customer_spans,
    initiator,
    without_spans,
)
from kindbot.guard.rules import decide_inbound

RULES = ("reply_burst", "window", "tenant_status", "group", "content", "consent", "frequency")


@pytest.mark.parametrize(
    ("kind", "origin", "answers_inbound", "who"),
    [
        (SendKind.REPLY, ReplyOrigin.KNOWLEDGE, True, Initiator.CUSTOMER),
        (SendKind.REPLY, ReplyOrigin.SYSTEM, True, Initiator.CUSTOMER),  # opt-out confirm, welcome
        (SendKind.REPLY, ReplyOrigin.FLOW, True, Initiator.CUSTOMER),
        (SendKind.REPLY, ReplyOrigin.HANDLER, True, Initiator.CUSTOMER),
        (SendKind.REPLY, ReplyOrigin.GENERATED, True, Initiator.CUSTOMER),
        (SendKind.REPLY, ReplyOrigin.FALLBACK, True, Initiator.CUSTOMER),
        (SendKind.REPLY, ReplyOrigin.AGENT, False, Initiator.TENANT),  # an agent's message
        (SendKind.REPLY, ReplyOrigin.AGENT, True, Initiator.TENANT),
        (SendKind.REPLY, ReplyOrigin.SYSTEM, False, Initiator.TENANT),  # inbox: resolve question
        (SendKind.PROACTIVE, ReplyOrigin.SYSTEM, False, Initiator.TENANT),  # proactive/broadcast
        (SendKind.PROACTIVE, ReplyOrigin.SYSTEM, True, Initiator.TENANT),
    ],
)
def test_who_initiated_a_send(
    kind: SendKind, origin: ReplyOrigin, answers_inbound: bool, who: Initiator
) -> None:
    assert initiator(kind, origin, answers_inbound=answers_inbound) is who


@pytest.mark.parametrize("rule", RULES)
def test_everything_the_tenant_initiated_is_charged(rule: str) -> None:
    assert charged_to_tenant(rule, Initiator.TENANT)
    assert charged_to_tenant(rule, Initiator.TENANT, echo_only=True)


@pytest.mark.parametrize(
    ("rule", "echo_only", "charged"),
    [
        ("reply_burst", False, False),  # a flooding visitor: per minute and per inbound
        ("window", False, False),
        ("tenant_status", False, False),  # a stranger writing to a pending tenant
        ("group", False, False),  # the group's hourly cap on answers
        ("consent", False, False),
        ("frequency", False, False),
        ("quiet_hours", False, False),
        ("content", False, True),  # the tenant's words: knowledge, welcome, handler text
        ("content", True, False),  # only the customer's words, echoed
    ],
)
def test_replies_are_charged_only_for_the_tenant_s_words(
    rule: str, echo_only: bool, charged: bool
) -> None:
    assert charged_to_tenant(rule, Initiator.CUSTOMER, echo_only=echo_only) is charged


@pytest.mark.parametrize(
    ("text", "fragments", "spans"),
    [
        ("您查询的是：黑彩票，谢谢", ("黑彩票",), ((6, 9),)),
        ("abab", ("ab",), ((0, 4),)),  # adjacent occurrences merge
        ("aaa", ("aa",), ((0, 3),)),  # overlapping occurrences merge
        ("订单 A1 已收到", ("A",), ()),  # one character is no echo
        ("订单 A1 已收到", ("  A1  ",), ((3, 5),)),  # blanks around a slot value ignored
        ("nothing here", ("absent",), ()),
        ("x", (), ()),
    ],
)
def test_customer_spans(
    text: str, fragments: tuple[str, ...], spans: tuple[tuple[int, int], ...]
) -> None:
    assert customer_spans(text, fragments) == spans


def test_without_spans_keeps_length_and_the_rest() -> None:
    text = "您查询的是：黑彩票，谢谢"
    blanked = without_spans(text, customer_spans(text, ("黑彩票",)))
    assert len(blanked) == len(text)
    assert "黑彩票" not in blanked
    assert blanked.startswith("您查询的是：")
    assert blanked.endswith("，谢谢")


def test_a_match_the_customer_typed_counts_as_theirs_even_in_part() -> None:
    text = "您查询的是：黑彩票，我们会尽快核实。"
    found = ScreeningMatch(ContentCategory.GAMBLING, "lexicon", "黑彩票", 6, 9, "黑彩票")
    assert customer_spans(text, ("查询 黑彩票",)) == ()
    assert customer_spans(text, ("查询 黑彩票",), (found,)) == ((6, 9),)
    assert customer_spans(text, ("查询 别的",), (found,)) == ()


def test_an_inbound_bot_loop_carries_no_severity() -> None:
    decision = decide_inbound(
        InboundKind.TEXT,
        "运费：满 99 元包邮。",
        prefer_chinese=True,
        recent_bot_texts=("运费：满 99 元包邮。",),
    )
    assert decision.action is InboundAction.LOOP
    assert decision.verdict.severity is Severity.NONE
