"""Choosing a threshold that maximises accuracy with fallback."""

from __future__ import annotations

import pytest

from kindbot.dialogue.kb_eval import EvalCase, summarize
from kindbot.dialogue.kb_tune import GRID, choose_threshold
from kindbot.dialogue.retrieval import Match


def case(query: str, *expected: str) -> EvalCase:
    return EvalCase(query, frozenset(expected))


def match(entry_id: str, score: float) -> Match:
    return Match(entry_id, "q", "a", score)


CASES = [case("a1", "a"), case("a2", "a"), case("b1", "b"), case("x1"), case("x2")]
# right answers score 0.62 and up, out-of-scope queries at most 0.40
MATCHES = [match("a", 0.9), match("a", 0.62), match("b", 0.7), match("a", 0.4), match("b", 0.2)]


def test_the_threshold_separates_right_answers_from_out_of_scope_queries() -> None:
    choice = choose_threshold(CASES, MATCHES)
    assert 0.40 < choice.threshold <= 0.62
    assert choice.accuracy == 1.0
    assert choice.report.threshold == choice.threshold
    assert choice.report.accuracy_with_fallback == 1.0
    assert choice.report.correct == 3
    assert choice.report.fallbacks == 2


def test_the_middle_of_the_best_plateau_is_chosen() -> None:
    choice = choose_threshold(CASES, MATCHES)
    plateau = [t for t in GRID if 0.40 < t <= 0.62]
    assert choice.threshold == plateau[(len(plateau) - 1) // 2]


def test_a_wrong_confident_answer_is_traded_against_coverage() -> None:
    cases = [*CASES, case("b2", "b")]
    matches = [*MATCHES, match("a", 0.95)]  # confidently wrong: no threshold fixes it
    choice = choose_threshold(cases, matches)
    assert choice.accuracy == pytest.approx(5 / 6)


def test_without_none_queries_the_lowest_thresholds_win() -> None:
    choice = choose_threshold(CASES[:3], MATCHES[:3])
    assert choice.threshold <= 0.62
    assert summarize(CASES[:3], MATCHES[:3], choice.threshold).correct == 3


def test_missing_matches_count_as_fallbacks() -> None:
    choice = choose_threshold([case("x"), case("a", "a")], [None, match("a", 0.5)])
    assert choice.accuracy == 1.0


def test_empty_input_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        choose_threshold([], [])
    with pytest.raises(ValueError, match="at least one"):
        choose_threshold(CASES, MATCHES, grid=())
