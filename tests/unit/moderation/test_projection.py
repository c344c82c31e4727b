"""Normalisation: what folds to what, and offsets that point back into the original."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kindbot.moderation.projection import normalise, project


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ＶＸ：ａｂｃ１２３", "vxabc123"),  # full-width, punctuation removed
        ("①②③ 𝟏𝟐 ０", "123120"),  # circled, mathematical and full-width digits
        ("賭場開戶", "赌场开户"),  # traditional to simplified
        ("微\u200b信 ❤ 号", "微信号"),  # zero-width, emoji and spaces between characters
        ("wēi xìn", "weixin"),  # tone marks
        ("раураl", "paypal"),  # Cyrillic look-alikes
        ("+V ➕微", "加v加微"),  # plus signs mean "add"
        ("5㎏ ⑩", "5kg10"),  # one character may expand to several
        ("\x00\x07ab\x1b[0m", "ab0m"),  # control characters
        ("", ""),
    ],
)
def test_folding(text: str, folded: str) -> None:
    assert normalise(text) == folded


def test_offsets_point_into_the_original_text() -> None:
    text = "请 加 我 的 ＶＸ：ａｂｃ"
    p = project(text)
    assert p.norm_text == "请加我的vxabc"
    assert p.span(1, 3) == (2, 5)
    assert text[2:5] == "加 我"
    assert p.span(4, 6) == (8, 10)
    assert text[8:10] == "ＶＸ"


def test_offsets_survive_expansion_and_characters_beyond_the_tables() -> None:
    text = "㎏😀\U000e0041冰毒"  # 😀 and a tag character fold to nothing
    p = project(text)
    assert p.norm_text == "kg冰毒"
    assert p.span(2, 4) == (3, 5)
    assert text[3:5] == "冰毒"
    assert p.span(0, 2) == (0, 1)


def test_lone_surrogates_and_a_mebibyte_do_not_break_it() -> None:
    assert normalise("a\ud800b") == "ab"
    big = "正常的客服消息，" * (1024 * 1024 // 24)
    assert len(project(big)) > 200_000


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_every_normalised_character_maps_to_a_character_of_the_input(text: str) -> None:
    p = project(text)
    for i in range(len(p)):
        start, end = p.span(i, i + 1)
        assert 0 <= start < end <= len(text)
