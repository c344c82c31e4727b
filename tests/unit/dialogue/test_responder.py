"""The dialogue outcome: answer, honest fallback, hand-off, and the top candidates."""

from __future__ import annotations

import pytest

from kindbot.core.choices import numbered_choices
from kindbot.core.events import InboundKind, ReplyOrigin
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.responder import CANDIDATES, HANDOFF_ZH, UNSURE_EN, respond
from kindbot.dialogue.retrieval import DEFAULT_THRESHOLD, KnowledgeIndex

ENTRIES = (
    KnowledgeEntry("ship", "运费怎么算", "满99元包邮。", ("邮费多少", "包邮吗", "快递费怎么收")),
    KnowledgeEntry("courier", "用什么快递", "默认顺丰。", ("发什么快递", "哪家快递", "能发顺丰吗")),
    KnowledgeEntry("track", "怎么查物流", "订单详情里有单号。", ("包裹到哪了", "查快递")),
    KnowledgeEntry("return", "怎么退货", "7天无理由退货。", ("可以退货吗", "退货流程")),
)


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex.build(ENTRIES)


def test_a_confident_match_is_answered_with_its_candidates(index: KnowledgeIndex) -> None:
    outcome = respond(
        InboundKind.TEXT, "邮费多少钱", index, threshold=DEFAULT_THRESHOLD, prefer_chinese=True
    )
    reply = outcome.replies[0]
    assert (reply.origin, reply.entry_id, reply.text) == (
        ReplyOrigin.KNOWLEDGE,
        "ship",
        "满99元包邮。",
    )
    assert not outcome.unanswered
    assert outcome.candidates[0].entry_id == "ship"
    assert reply.score == outcome.candidates[0].score
    assert 1 < len(outcome.candidates) <= CANDIDATES
    scores = [c.score for c in outcome.candidates]
    assert scores == sorted(scores, reverse=True)


def test_below_the_threshold_the_bot_offers_choices_and_keeps_the_candidates(
    index: KnowledgeIndex,
) -> None:
    outcome = respond(InboundKind.TEXT, "邮费多少钱", index, threshold=0.999, prefer_chinese=True)
    assert outcome.replies[0].origin is ReplyOrigin.FALLBACK
    assert numbered_choices(outcome.replies[0].text)[0] == "运费怎么算"
    assert outcome.unanswered
    assert outcome.candidates[0].entry_id == "ship"


def test_an_unrelated_question_falls_back_in_its_language(index: KnowledgeIndex) -> None:
    outcome = respond(
        InboundKind.TEXT,
        "what is the meaning of life",
        index,
        threshold=DEFAULT_THRESHOLD,
        prefer_chinese=True,
    )
    assert outcome.replies[0].text == UNSURE_EN
    assert outcome.unanswered


def test_asking_for_a_person_hands_off_without_candidates(index: KnowledgeIndex) -> None:
    outcome = respond(InboundKind.TEXT, "人工", index, threshold=0.0, prefer_chinese=True)
    assert outcome.handoff
    assert outcome.replies[0].text == HANDOFF_ZH
    assert outcome.candidates == ()
    assert not outcome.unanswered


def test_only_a_search_of_the_knowledge_base_counts_as_asked(index: KnowledgeIndex) -> None:
    def asked(
        text: str, *, threshold: float = DEFAULT_THRESHOLD, recent: tuple[str, ...] = ()
    ) -> bool:
        outcome = respond(
            InboundKind.TEXT,
            text,
            index,
            threshold=threshold,
            prefer_chinese=True,
            recent_bot_texts=recent,
        )
        return outcome.asked

    assert asked("邮费多少钱"), "answered from the knowledge base"
    assert asked("邮费多少钱", threshold=0.999), "searched, below the threshold"
    assert asked("what is the meaning of life"), "searched, nothing found"
    assert not asked("人工"), "a person request is not a question"
    clarification = (
        respond(InboundKind.TEXT, "邮费多少钱", index, threshold=0.999, prefer_chinese=True)
        .replies[0]
        .text
    )
    assert not asked("1", recent=(clarification,)), "a pick answers the bot's question"
    non_text = respond(InboundKind.IMAGE, "", index, threshold=0.0, prefer_chinese=True)
    assert not non_text.asked
