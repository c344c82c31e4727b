"""normalize_text: NFKC, casefold, traditional → simplified, whitespace."""

from __future__ import annotations

import pytest

from kindbot.dialogue.normalize import normalize_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＡＢＣ１２３", "abc123"),
        ("Hello World", "hello world"),
        ("Straße", "strasse"),
        ("退貨怎麼辦", "退货怎么办"),
        ("發票　和  運費\t\n", "发票 和 运费"),
        ("  spaced   out  ", "spaced out"),
        ("ｉＰｈｏｎｅ　退貨？", "iphone 退货?"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


def test_normalize_is_idempotent_and_deterministic() -> None:
    text = "請問 ＶＩＰ 會員 怎麼 開 發票？"
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert normalize_text(text) == once


def test_simplified_text_is_unchanged() -> None:
    assert normalize_text("运费怎么算") == "运费怎么算"
