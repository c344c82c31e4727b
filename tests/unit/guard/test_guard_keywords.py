"""Opt-out / opt-in keyword recognition (DESIGN.md §5 opt_out)."""

from __future__ import annotations

import pytest

from kindbot.guard.keywords import is_opt_in, is_opt_out


@pytest.mark.parametrize(
    "text",
    [
        "退订",
        " 退订 ",
        "TD",
        "td",
        "T",
        "取消订阅",
        "STOP",
        "stop!",
        "ＳＴＯＰ",
        "Unsubscribe",
        "退订。",
    ],
)
def test_whole_message_keywords_opt_out(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize(
    "text",
    ["please stop", "stop sending me the catalogue?", "退订单", "TDD", "", "我想退订吗", "t t"],
)
def test_keywords_inside_sentences_do_not_opt_out(text: str) -> None:
    assert not is_opt_out(text)


@pytest.mark.parametrize("text", ["订阅", "START", "ｓｔａｒｔ", "start."])
def test_explicit_resubscription(text: str) -> None:
    assert is_opt_in(text)
    assert not is_opt_out(text)


def test_opt_out_words_never_resubscribe() -> None:
    assert not is_opt_in("退订")
