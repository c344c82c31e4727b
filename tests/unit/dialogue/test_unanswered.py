"""Finding and grouping the questions the knowledge base cannot answer (words only)."""

from __future__ import annotations

import pytest

from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.retrieval import DEFAULT_THRESHOLD, KnowledgeIndex
from kindbot.dialogue.unanswered import (
    Asked,
    QuestionCluster,
    cluster_questions,
    is_question,
    unanswered,
)
from kindbot.guard.keywords import is_opt_in, is_opt_out


def guard_command(text: str) -> bool:
    return is_opt_out(text) or is_opt_in(text)


def test_similar_questions_form_one_group_counted_with_repeats() -> None:
    clusters = cluster_questions(
        ["能开发票吗", "发票怎么开", "可以开发票吗", "能开发票吗 ", "你们几点下班", "几点下班"]
    )
    assert clusters[0] == QuestionCluster(
        4, 4, "能开发票吗", ("能开发票吗", "发票怎么开", "可以开发票吗")
    )
    assert clusters[1] == QuestionCluster(2, 2, "你们几点下班", ("你们几点下班", "几点下班"))
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


def test_customers_are_counted_once_however_often_they_ask() -> None:
    asked = [Asked("能开发票吗", "ann")] * 4 + [Asked("发票怎么开", "ann")]
    asked += [Asked("你们几点下班", who) for who in ("bob", "cai", "dan")]
    asked += [Asked("几点下班", "bob")]
    invoice_only = cluster_questions(asked[:5])
    assert invoice_only == [QuestionCluster(5, 1, "能开发票吗", ("能开发票吗", "发票怎么开"))], (
        "one customer asking five times is one customer"
    )
    clusters = cluster_questions(asked)
    assert [(c.leader, c.customers, c.count) for c in clusters] == [
        ("你们几点下班", 3, 4),
        ("能开发票吗", 1, 5),
    ], "three customers asking once rank above one customer asking five times"


def test_the_leader_is_the_text_most_customers_asked() -> None:
    asked = [Asked("发票怎么开", "ann")] * 3 + [Asked("能开发票吗", w) for w in ("bob", "cai")]
    (cluster,) = cluster_questions(asked)
    assert (cluster.leader, cluster.examples) == ("能开发票吗", ("能开发票吗", "发票怎么开"))
    assert (cluster.customers, cluster.count) == (3, 5)


def test_unknown_askers_count_as_one_customer_per_message() -> None:
    asked = [Asked("能开发票吗", "ann"), Asked("能开发票吗", "ann"), Asked("能开发票吗")]
    asked.append(Asked("能开发票吗"))
    assert cluster_questions(asked)[0].customers == 3


def test_a_higher_similarity_splits_what_a_lower_one_joins() -> None:
    texts = ["能开发票吗", "发票怎么开", "可以开发票吗"]
    assert len(cluster_questions(texts, 0.1)) == 1
    assert len(cluster_questions(texts, 0.99)) == 3


def test_examples_are_capped_but_counts_are_not() -> None:
    texts = [f"发票{suffix}" for suffix in ("吗", "呢", "啊", "呀", "吧", "嘛", "哦")]
    (cluster,) = cluster_questions(texts, 0.05)
    assert (cluster.count, len(cluster.examples)) == (7, 5)
    (everything,) = cluster_questions(texts, 0.05, examples=10)
    assert len(everything.examples) == 7


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "2",
        "２",
        " 3。",
        "13800138000",
        "138-0013-8000",
        "+86 139 1234 5678",
        "我的手机号是13912345678",
        "20261201123456",
        "SO2026120100",
        "？？",
        "...",
        "😀👍",
        "人工",
        "转人工",
        "Human!",
        "退订",
        "ＳＴＯＰ",
        "订阅",
        "start",
    ],
)
def test_commands_picks_phone_numbers_and_bare_identifiers_are_not_questions(text: str) -> None:
    assert not is_question(text, guard_command)


@pytest.mark.parametrize(
    "text",
    [
        "有实体店吗",
        "do you have a physical store",
        "2号店几点开门",
        "订单 SO2026120100 到哪了",
        "how do I stop my order",
        "可以退订单吗",
    ],
)
def test_questions_with_numbers_or_command_words_inside_are_questions(text: str) -> None:
    assert is_question(text, guard_command)


def test_guard_commands_count_only_when_the_caller_names_them() -> None:
    assert is_question("退订")
    assert not is_question("退订", guard_command)


def test_unanswered_keeps_what_the_knowledge_base_cannot_answer() -> None:
    index = KnowledgeIndex.build(
        [
            KnowledgeEntry("ship", "运费怎么算", "满99包邮", ("邮费多少", "包邮吗")),
            KnowledgeEntry("return", "怎么退货", "7天无理由", ("可以退货吗", "退货流程")),
        ]
    )
    texts = ["运费怎么算", "人工", "   ", "你们老板是谁", "邮费多少", "能用花呗吗"]
    texts += ["２", "13800138000", "退订", "😀"]
    asked = [Asked(text, f"c{n}") for n, text in enumerate(texts)]
    missed = unanswered(index, asked, DEFAULT_THRESHOLD, command=guard_command)
    assert missed == [Asked("你们老板是谁", "c3"), Asked("能用花呗吗", "c5")]
    everything = unanswered(index, asked, 1.0, command=guard_command)
    assert [a.text for a in everything] == ["运费怎么算", "你们老板是谁", "邮费多少", "能用花呗吗"]
