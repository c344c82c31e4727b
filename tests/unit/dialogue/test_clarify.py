"""Clarification with numbered choices, and handing off after unresolved turns (pure)."""

from __future__ import annotations

import pytest

from kindbot.core.choices import HEAD_ZH, numbered_choices
from kindbot.core.events import InboundKind, ReplyOrigin
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.clarify import (
    chosen_question,
    clarification,
    decide,
    offer,
    too_close,
    unresolved_streak,
)
from kindbot.dialogue.responder import HANDOFF_ZH, UNSURE_ZH, respond
from kindbot.dialogue.retrieval import KnowledgeIndex, Match

ENTRIES = (
    KnowledgeEntry("track", "怎么查物流？", "在订单详情页查看快递单号。", ("物流到哪了", "查快递")),
    KnowledgeEntry("courier", "用什么快递？", "默认发顺丰。", ("发什么快递", "哪家快递")),
    KnowledgeEntry("refund", "可以退货吗？", "七天无理由退货。", ("怎么退货", "退款")),
    KnowledgeEntry("hours", "几点上班？", "每天 9 点到 18 点。", ("营业时间",)),
)
INDEX = KnowledgeIndex.build(ENTRIES)
MENU = clarification(
    [Match("track", "怎么查物流？", "", 0.3), Match("courier", "用什么快递？", "", 0.2)],
    chinese=True,
)


def test_a_clarification_lists_its_choices_and_reads_them_back() -> None:
    assert MENU.startswith(HEAD_ZH)
    assert numbered_choices(MENU) == ("怎么查物流？", "用什么快递？")
    assert numbered_choices("1. 不是菜单") == ()


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("2", "用什么快递？"),
        ("２", "用什么快递？"),
        (" 1 ", "怎么查物流？"),
        ("3", None),
        ("好", None),
    ],
)
def test_a_number_picks_from_the_last_clarification(reply: str, expected: str | None) -> None:
    assert chosen_question(reply, (MENU,)) == expected
    assert chosen_question(reply, ("别的消息", MENU)) is None


def test_weak_candidates_are_not_offered() -> None:
    weak = Match("x", "x", "", 0.01)
    assert offer([Match("a", "a", "", 0.5), weak]) == (Match("a", "a", "", 0.5),)


def test_unresolved_streak_counts_trailing_fallbacks() -> None:
    assert unresolved_streak((MENU, UNSURE_ZH, "默认发顺丰。")) == 2
    assert unresolved_streak(("默认发顺丰。", MENU)) == 0
    assert unresolved_streak(()) == 0


def test_choosing_a_number_answers_that_entry() -> None:
    outcome = respond(
        InboundKind.TEXT, "2", INDEX, threshold=0.99, prefer_chinese=True, recent_bot_texts=(MENU,)
    )
    assert outcome.replies[0].text == "默认发顺丰。"
    assert outcome.replies[0].origin is ReplyOrigin.KNOWLEDGE
    assert not outcome.handoff


def test_a_second_unresolved_turn_hands_off() -> None:
    first = respond(InboundKind.TEXT, "量子色动力学", INDEX, threshold=0.99, prefer_chinese=True)
    assert first.unanswered
    assert not first.handoff
    second = respond(
        InboundKind.TEXT,
        "弦论",
        INDEX,
        threshold=0.99,
        prefer_chinese=True,
        recent_bot_texts=(first.replies[0].text,),
    )
    assert second.handoff
    assert second.replies[0].text == HANDOFF_ZH


def test_below_the_threshold_the_bot_offers_choices_instead_of_guessing() -> None:
    outcome = respond(InboundKind.TEXT, "快递", INDEX, threshold=0.99, prefer_chinese=True)
    assert outcome.unanswered
    assert outcome.replies[0].origin is ReplyOrigin.FALLBACK
    offered = numbered_choices(outcome.replies[0].text)
    assert offered
    assert set(offered) <= {entry.question for entry in ENTRIES}


def _match(entry_id: str, score: float) -> Match:
    return Match(entry_id, f"question {entry_id}", f"answer {entry_id}", score)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ((0.9, 0.2), "answer"),  # clear winner
        ((0.55, 0.5), "clarify"),  # both plausible, a coin toss: ask
        ((0.45, 0.38), "clarify"),  # the runner-up is just under the line
        ((0.62, 0.5), "answer"),  # a margin above CLOSE_MARGIN is a decision
        ((0.9,), "answer"),
        ((0.3, 0.2), "clarify"),  # below the threshold, worth offering
        ((0.05,), "fallback"),  # nothing worth offering
        ((), "fallback"),
    ],
)
def test_close_candidates_are_asked_about_not_guessed(
    scores: tuple[float, ...], expected: str
) -> None:
    found = tuple(_match(str(i), s) for i, s in enumerate(scores))
    assert decide(found, 0.4) == expected
    assert too_close(found, 0.4) == (expected == "clarify" and bool(scores) and scores[0] >= 0.4)


def test_the_responder_offers_close_candidates_as_choices() -> None:
    index = KnowledgeIndex.build(
        [
            KnowledgeEntry("retail", "怎么申请退货退款", "零售订单在订单页申请。"),
            KnowledgeEntry("wholesale", "怎么申请退货退款", "批发订单请联系客户经理。"),
            KnowledgeEntry("hours", "客服几点上班", "每天9点到21点。"),
        ]
    )
    found = index.search("怎么申请退货退款")
    assert found[0].score >= 0.4, "each alone would be answered"
    outcome = respond(
        InboundKind.TEXT, "怎么申请退货退款", index, threshold=0.4, prefer_chinese=True
    )
    assert outcome.unanswered
    assert numbered_choices(outcome.replies[0].text) == ("怎么申请退货退款", "怎么申请退货退款")
