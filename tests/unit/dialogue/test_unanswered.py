"""Finding and grouping the questions the knowledge base cannot answer."""

from __future__ import annotations

from kindbot.dialogue.retrieval import DEFAULT_THRESHOLD, KnowledgeIndex
from kindbot.dialogue.unanswered import QuestionCluster, cluster_questions, unanswered
from kindbot.records import KnowledgeEntry


def test_similar_questions_form_one_group_counted_with_repeats() -> None:
    clusters = cluster_questions(
        ["能开发票吗", "发票怎么开", "可以开发票吗", "能开发票吗 ", "你们几点下班", "几点下班"]
    )
    assert clusters[0] == QuestionCluster(
        4, "能开发票吗", ("能开发票吗", "发票怎么开", "可以开发票吗")
    )
    assert clusters[1] == QuestionCluster(2, "你们几点下班", ("你们几点下班", "几点下班"))
    assert len(clusters) == 2


def test_unrelated_questions_stay_apart_and_ties_keep_their_order() -> None:
    clusters = cluster_questions(["How do I get an invoice?", "股票推荐", "invoice please"])
    assert [c.count for c in clusters] == [2, 1]
    assert clusters[1].leader == "股票推荐"


def test_traditional_script_and_width_are_the_same_question() -> None:
    clusters = cluster_questions(["可以開發票嗎", "可以开发票吗", "ＩＮＶＯＩＣＥ", "invoice"])
    assert sorted(c.count for c in clusters) == [2, 2]


def test_nothing_or_only_punctuation_gives_no_groups() -> None:
    assert cluster_questions([]) == []
    assert cluster_questions(["？？", "   "]) == []


def test_unanswered_keeps_what_the_knowledge_base_cannot_answer() -> None:
    index = KnowledgeIndex.build(
        [
            KnowledgeEntry("ship", "运费怎么算", "满99包邮", ("邮费多少", "包邮吗")),
            KnowledgeEntry("return", "怎么退货", "7天无理由", ("可以退货吗", "退货流程")),
        ]
    )
    asked = ["运费怎么算", "人工", "   ", "你们老板是谁", "邮费多少", "能用花呗吗"]
    assert unanswered(index, asked, DEFAULT_THRESHOLD) == ["你们老板是谁", "能用花呗吗"]
    assert unanswered(index, asked, 1.0) == ["运费怎么算", "你们老板是谁", "邮费多少", "能用花呗吗"]
