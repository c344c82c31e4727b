"""The default install answers across wording, script and language (the real encoder)."""

from __future__ import annotations

import pytest

from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.clarify import decide
from kindbot.dialogue.retrieval import DEFAULT_THRESHOLD, KnowledgeIndex
from kindbot.pipeline.decide.multilingual import MultilingualEncoder

ENTRIES = (
    KnowledgeEntry("ship-time", "下单后多久发货？", "现货付款后48小时内发货，周末顺延。"),
    KnowledgeEntry("carriers", "默认发什么快递？", "默认发中通，满199元发顺丰。"),
    KnowledgeEntry("refund-days", "退款多久能到账？", "审核通过后1-3个工作日原路退回。"),
    KnowledgeEntry("invoice", "可以开发票吗？", "可以开电子普通发票，下单时填写抬头。"),
    KnowledgeEntry("green-tea", "店里有哪些绿茶？", "有西湖龙井、碧螺春和安吉白茶。"),
    KnowledgeEntry("hours", "客服几点上班？", "每天9:00到21:00在线。"),
    KnowledgeEntry(
        "password", "How do I reset my password?", "Use the reset link on the login page."
    ),
    KnowledgeEntry("store", "门店地址在哪里？", "杭州市西湖区龙井路18号。"),
)


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex.build(ENTRIES, encoder=MultilingualEncoder())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how long before you ship my order?", "ship-time"),  # English → Chinese entry
        ("can I get an invoice?", "invoice"),
        ("忘记密码了怎么办", "password"),  # Chinese → English entry
        ("請問下單後多久發貨", "ship-time"),  # traditional script
        ("退款多久能到账？", "refund-days"),  # full-width punctuation, exact words
        ("ＳＦ快递能发吗", "carriers"),  # full-width letters
        ("钱啥时候退回来", "refund-days"),  # no shared word with the entry's question
    ],
)
def test_questions_find_their_entry_across_language_and_script(
    index: KnowledgeIndex, query: str, expected: str
) -> None:
    found = index.search(query)
    assert found
    assert found[0].entry_id == expected


def test_traditional_and_full_width_text_score_as_simplified(index: KnowledgeIndex) -> None:
    simplified = index.search("下单后多久发货")[0]
    traditional = index.search("下單後多久發貨")[0]
    full_width = index.search("下单后多久发货？")[0]
    assert traditional.entry_id == simplified.entry_id == full_width.entry_id
    assert traditional.score == pytest.approx(simplified.score)


def test_out_of_scope_questions_fall_back(index: KnowledgeIndex) -> None:
    for query in ("今天股票行情怎么样", "what's the weather in Paris tomorrow", "帮我写作业"):
        found = index.search(query)
        assert decide(found, DEFAULT_THRESHOLD) != "answer", query


def test_an_exact_question_is_answered_without_encoding_it(index: KnowledgeIndex) -> None:
    assert not index.wants_sentence("可以开发票吗？")
    found = index.search("可以开发票吗？")
    assert found[0].entry_id == "invoice"
    assert decide(found, DEFAULT_THRESHOLD) == "answer"
