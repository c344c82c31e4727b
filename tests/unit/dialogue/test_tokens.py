"""Retrieval features: stems, jieba words, synonym groups."""

from __future__ import annotations

import pytest

from kindbot.dialogue.tokens import (
    SynonymTable,
    builtin_synonyms,
    parse_synonym_lines,
    stem,
    tokenize,
)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("refunds", "refund"),
        ("refunded", "refund"),
        ("refunding", "refund"),
        ("deliveries", "delivery"),
        ("address", "address"),
        ("bus", "bus"),
        ("quickly", "quick"),
        ("退款", "退款"),
    ],
)
def test_stem(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_inflections_share_the_word_feature() -> None:
    assert "w:refund" in tokenize("Refunds")
    assert "w:refund" in tokenize("refunded!")


def test_jieba_words_are_features_of_longer_cjk_runs() -> None:
    tokens = tokenize("运费险怎么赔付")
    assert "j:赔付" in tokens
    assert {"c:运", "b:运费"} <= set(tokens)


def test_a_group_gives_every_term_the_canonical_terms_features() -> None:
    table = SynonymTable.from_groups([["花呗", "先用后付"]])
    plain = set(tokenize("可以先用后付吗"))
    expanded = set(tokenize("可以先用后付吗", table))
    assert expanded - plain == {"g:先用后付"}, "the canonical term only adds its group"
    other = set(tokenize("花呗", table)) - set(tokenize("花呗"))
    assert other == {
        "g:先用后付",
        "c:先",
        "c:用",
        "c:后",
        "c:付",
        "b:先用",
        "b:用后",
        "b:后付",
        "j:先用后付",
    }


def test_latin_words_match_whole_and_after_stemming() -> None:
    table = SynonymTable.from_groups([["parcel", "package"]])
    assert {"g:package", "w:package"} <= set(tokenize("my parcels", table))
    assert "g:package" not in tokenize("parcelx", table)


def test_groups_are_normalised_and_merged() -> None:
    traditional = SynonymTable.from_groups([["發票", "開票"], ["solo"]])
    assert set(traditional.cjk_terms) == {"发票", "开票"}
    merged = traditional.merged(SynonymTable.from_groups([["发票", "收据"], ["快递", "物流"]]))
    assert set(merged.cjk_terms) == {"发票", "开票", "收据", "快递", "物流"}
    assert "g:发票" in merged.cjk_terms["收据"]
    assert "g:发票" in merged.cjk_terms["开票"], "groups sharing a canonical term join"
    assert merged.lengths == (2,)


def test_builtin_lexicon_covers_common_customer_service_words() -> None:
    table = builtin_synonyms()
    for term in ("快递", "物流", "包裹", "退款", "退钱", "发票", "开票"):
        assert term in table.cjk_terms, term
    assert set(tokenize("包裹到哪了", table)) & set(tokenize("查快递", table)) >= {"b:包裹"}
    assert "refund" in table.words


def test_parse_synonym_lines_skips_comments_and_single_terms() -> None:
    text = "# header\n快递 物流|包裹\nalone\nrefund, reimburse  # trailing\n"
    assert parse_synonym_lines(text) == [("快递", "物流", "包裹"), ("refund", "reimburse")]


def test_adjacent_latin_words_give_a_stemmed_pair_feature() -> None:
    tokens = tokenize("My card hasn't arrived")
    assert "p:card hasn" in tokens
    assert "p:hasn t" in tokens
    assert "p:t arriv" in tokens  # stems, as the word features
    assert "p:my card" in tokens


def test_word_pairs_do_not_span_chinese_text() -> None:
    tokens = tokenize("card 到了吗 arrived")
    assert not [t for t in tokens if t.startswith("p:")]
