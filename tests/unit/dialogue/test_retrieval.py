"""KnowledgeIndex: Chinese and English retrieval, thresholds and edge cases."""

from __future__ import annotations

import pytest

from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.calibrate import Corpus, fit_calibration
from kindbot.dialogue.learned import DEFAULT_C
from kindbot.dialogue.retrieval import (
    DEFAULT_THRESHOLD,
    KnowledgeIndex,
    Match,
    best_answer,
    effective_threshold,
    tokenize,
)

SHOP = (
    KnowledgeEntry(
        "shipping",
        "运费怎么算？",
        "满99元包邮，不满收10元运费。",
        ("邮费多少", "包邮吗", "快递费怎么收"),
    ),
    KnowledgeEntry(
        "returns",
        "怎么退货？",
        "签收7天内可无理由退货，请在订单页申请。",
        ("可以退货吗", "退货流程是什么", "不想要了能退吗"),
    ),
    KnowledgeEntry(
        "invoice",
        "可以开发票吗？",
        "可以，下单时填写抬头即可开电子发票。",
        ("发票怎么开", "能开专票吗"),
    ),
    KnowledgeEntry(
        "hours",
        "What are your opening hours?",
        "We are open 9:00-18:00, Monday to Saturday.",
        ("when are you open", "what time do you close"),
    ),
    KnowledgeEntry(
        "password",
        "How do I reset my password?",
        "Use 'Forgot password' on the login page.",
        ("I forgot my password", "change my password"),
    ),
)


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex.build(SHOP)


def test_tokenize_mixes_cjk_bigrams_and_word_ngrams() -> None:
    tokens = tokenize("退貨 Refund!")
    assert {"c:退", "c:货", "b:退货", "w:refund", "n: re", "n:und "} <= set(tokens)
    assert not any("!" in t for t in tokens)


def test_len_and_ids(index: KnowledgeIndex) -> None:
    assert len(index) == len(SHOP)
    assert index.entry_ids == tuple(e.id for e in SHOP)


def test_chinese_paraphrase_ranks_the_right_entry_first(index: KnowledgeIndex) -> None:
    found = index.search("退货怎么弄")
    assert found[0].entry_id == "returns"
    assert found[0].answer.startswith("签收7天内")
    assert found[0].score >= DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("邮费怎么收", "shipping"),
        ("能开发票不", "invoice"),
        ("退貨流程", "returns"),  # traditional script
        ("可以開發票嗎", "invoice"),  # traditional script
        ("ＷＨＥＮ ＡＲＥ ＹＯＵ ＯＰＥＮ", "hours"),  # full-width
        ("how do i resett my pasword", "password"),  # typos
        ("opening hours please", "hours"),
    ],
)
def test_best_answer_finds_the_entry(index: KnowledgeIndex, query: str, expected: str) -> None:
    match = best_answer(index, query, DEFAULT_THRESHOLD)
    assert match is not None
    assert match.entry_id == expected


def test_typo_still_ranks_first(index: KnowledgeIndex) -> None:
    assert index.search("pasword resett")[0].entry_id == "password"


@pytest.mark.parametrize("query", ["今天天气真好", "the weather is lovely today", "股票推荐"])
def test_unrelated_query_scores_below_default_threshold(index: KnowledgeIndex, query: str) -> None:
    found = index.search(query)
    assert all(m.score < DEFAULT_THRESHOLD for m in found)
    assert best_answer(index, query, DEFAULT_THRESHOLD) is None


def test_search_is_sorted_unique_and_limited(index: KnowledgeIndex) -> None:
    found = index.search("发票 运费 退货", limit=5)
    scores = [m.score for m in found]
    assert scores == sorted(scores, reverse=True)
    assert len({m.entry_id for m in found}) == len(found)
    assert all(0.0 < m.score <= 1.0 for m in found)
    assert len(index.search("发票 运费 退货", limit=2)) == 2
    assert index.search("发票", limit=0) == ()


@pytest.mark.parametrize("entry", SHOP, ids=lambda e: e.id)
def test_every_exact_phrasing_is_answered(index: KnowledgeIndex, entry: KnowledgeEntry) -> None:
    for phrasing in (entry.question, *entry.similar):
        found = index.search(phrasing, limit=1)
        assert found[0] == Match(entry.id, entry.question, entry.answer, found[0].score)
        assert found[0].score >= DEFAULT_THRESHOLD


def test_single_phrasing_entry_is_confident_on_its_question() -> None:
    solo = KnowledgeIndex.build(
        [KnowledgeEntry("a", "怎么退货", "x"), KnowledgeEntry("b", "运费", "y")]
    )
    found = solo.search("怎麼退貨")
    assert found[0].entry_id == "a"
    assert found[0].score > 0.8
    assert all(m.score < DEFAULT_THRESHOLD for m in found[1:])


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "？！。"])
def test_empty_queries_return_nothing(index: KnowledgeIndex, query: str) -> None:
    assert index.search(query) == ()
    assert best_answer(index, query, DEFAULT_THRESHOLD) is None


def test_empty_index() -> None:
    empty = KnowledgeIndex.build([])
    assert len(empty) == 0
    assert empty.search("退货") == ()
    assert best_answer(empty, "退货", DEFAULT_THRESHOLD) is None


def test_index_of_untokenisable_entries_returns_nothing() -> None:
    odd = KnowledgeIndex.build([KnowledgeEntry("x", "？？？", "!")])
    assert len(odd) == 1
    assert odd.search("退货") == ()


def test_threshold_boundary(index: KnowledgeIndex) -> None:
    top = index.search("退货怎么弄", limit=1)[0]
    assert best_answer(index, "退货怎么弄", top.score) == top
    assert best_answer(index, "退货怎么弄", top.score + 1e-6) is None


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        KnowledgeIndex.build([SHOP[0], SHOP[0]])


def test_search_is_deterministic() -> None:
    first = KnowledgeIndex.build(SHOP).search("怎么开发票", limit=5)
    second = KnowledgeIndex.build(SHOP).search("怎么开发票", limit=5)
    assert first == second


def test_unknown_words_in_the_query_lower_the_score() -> None:
    tiny = KnowledgeIndex.build(
        [
            KnowledgeEntry("returns", "怎么退货", "a", ("可以退货吗", "退货流程")),
            KnowledgeEntry("shipping", "运费怎么算", "b", ("邮费多少", "包邮吗")),
        ]
    )
    only_known = tiny.search("怎么", limit=1)[0].score
    with_unknown = tiny.search("今天天气怎么样", limit=1)[0].score
    assert with_unknown < only_known / 2
    assert best_answer(tiny, "今天天气怎么样", DEFAULT_THRESHOLD) is None


def test_builtin_synonyms_connect_different_words(index: KnowledgeIndex) -> None:
    # 快递费 is a built-in synonym of 运费/邮费
    assert index.search("快递费多少")[0].entry_id == "shipping"


def test_tenant_synonyms_make_an_unknown_word_answerable() -> None:
    entries = [
        KnowledgeEntry("pay", "支持花呗付款吗", "支持。", ("可以用花呗吗", "花呗能用吗")),
        KnowledgeEntry("ship", "运费怎么算", "满99包邮。", ("邮费多少", "包邮吗")),
        KnowledgeEntry("time", "几点发货", "四点前当天发。", ("什么时候发货", "多久发货")),
    ]
    plain = KnowledgeIndex.build(entries)
    tenant = KnowledgeIndex.build(entries, synonyms=[["花呗", "先用后付"]])
    assert best_answer(plain, "能用先用后付吗", DEFAULT_THRESHOLD) is None
    match = best_answer(tenant, "能用先用后付吗", DEFAULT_THRESHOLD)
    assert match is not None
    assert match.entry_id == "pay"


def test_the_classifier_and_calibration_are_trained_on_the_entries() -> None:
    entries = [
        KnowledgeEntry(
            f"topic{n}",
            f"question about topic{n} subject{n}",
            f"answer {n}",
            tuple(f"how does topic{n} work with item{k} subject{n}" for k in range(8)),
        )
        for n in range(30)
    ]
    built = KnowledgeIndex.build(entries)
    assert built.learned
    assert built.calibration is not None
    assert built.calibration.examples > 0, "fitted on held-out phrasings, not the default"
    lexical_only = KnowledgeIndex.build(entries, learn=False)
    assert not lexical_only.learned
    assert built.search("how does topic7 work")[0].entry_id == "topic7"


def test_a_single_phrasing_per_entry_trains_no_classifier() -> None:
    single = KnowledgeIndex.build(
        [KnowledgeEntry("a", "怎么退货", "x"), KnowledgeEntry("b", "运费", "y")]
    )
    assert not single.learned
    assert single.calibration is not None
    assert single.calibration.examples == 0


def test_effective_threshold_prefers_tuned_then_tenant_then_default() -> None:
    tuned = KnowledgeIndex.build(SHOP[:2], threshold=0.42)
    untuned = KnowledgeIndex.build(SHOP[:2])
    assert effective_threshold(tuned, 0.7) == 0.42
    assert effective_threshold(untuned, 0.7) == 0.7
    assert effective_threshold(untuned, None) == DEFAULT_THRESHOLD


def _separable_entries() -> list[KnowledgeEntry]:
    return [
        KnowledgeEntry(
            f"topic{n}",
            f"question about topic{n} subject{n}",
            f"answer {n}",
            tuple(f"how does topic{n} work with item{k} subject{n}" for k in range(8)),
        )
        for n in range(30)
    ]


def _tokenised(entries: list[KnowledgeEntry]) -> tuple[list[list[str]], list[int]]:
    phrasings: list[list[str]] = []
    owners: list[int] = []
    for position, entry in enumerate(entries):
        for text in (entry.question, *entry.similar):
            phrasings.append(tokenize(text))
            owners.append(position)
    return phrasings, owners


@pytest.mark.parametrize("choices", [(0.1, 1.0), (1.0, 0.1), (0.3,)])
def test_the_regularisation_is_chosen_on_held_out_phrasings(choices: tuple[float, ...]) -> None:
    phrasings, owners = _tokenised(_separable_entries())
    fitted = fit_calibration(Corpus(phrasings, owners), learned=True, choices=choices)
    # every C ranks these clean phrasings right: the tie goes to the first choice
    assert fitted.c == choices[0]
    assert fitted.calibration.examples > 0


def test_the_regularisation_is_the_default_without_a_classifier() -> None:
    phrasings, owners = _tokenised(_separable_entries())
    fitted = fit_calibration(Corpus(phrasings, owners), learned=False, choices=(1.0,))
    assert fitted.c == DEFAULT_C


def test_a_weaker_regularisation_wins_when_it_ranks_held_out_phrasings_better() -> None:
    # One entry has far more phrasings than the others: a heavily regularised
    # classifier leans on that prior and ranks it first for everything.
    def entry(n: int, count: int) -> KnowledgeEntry:
        similar = tuple(f"marker{n} variant{k} question" for k in range(count))
        return KnowledgeEntry(f"e{n}", f"marker{n} question", f"answer {n}", similar)

    entries = [entry(0, 60)] + [entry(n, 4) for n in range(1, 25)]
    phrasings, owners = _tokenised(entries)
    strong = fit_calibration(Corpus(phrasings, owners), learned=True, choices=(0.0001,))
    chosen = fit_calibration(Corpus(phrasings, owners), learned=True, choices=(0.0001, 1.0))
    assert strong.c == 0.0001
    assert chosen.c == 1.0
