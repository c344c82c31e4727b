"""Lexicon edit validation, the labelled set's quality targets, the optional model."""

from __future__ import annotations

from pathlib import Path

import pytest

from kindbot.core.errors import InputFileError
from kindbot.core.records.moderation import TermAction
from kindbot.core.screening import ContentCategory
from kindbot.moderation import classifier as ngram
from kindbot.moderation import default_screener
from kindbot.moderation.edits import check_edit
from kindbot.moderation.evaluation import evaluate, parse_labelled, read_labelled

LABELLED = Path(__file__).parents[2] / "data" / "moderation" / "labelled.tsv"


def test_a_tenant_cannot_allow_a_protected_platform_term() -> None:
    [problem] = check_edit("澳门赌场", None, TermAction.ALLOW, tenant=True)
    assert "赌场" in problem
    assert check_edit("澳门赌场", None, TermAction.ALLOW, tenant=False) == []
    assert check_edit("薇信茶社", None, TermAction.ALLOW, tenant=True) == []


def test_bad_edits_are_explained() -> None:
    assert check_edit("  ", None, TermAction.DENY, tenant=False)[0] == "the term is empty"
    assert "no letters" in check_edit("❤❤", "fraud", TermAction.DENY, tenant=False)[0]
    assert "--category" in check_edit("快三", "lottery", TermAction.FLAG, tenant=False)[0]
    assert check_edit("快三", "gambling", TermAction.FLAG, tenant=True) == []


def test_the_labelled_set_meets_the_targets() -> None:
    report = evaluate(default_screener(), read_labelled(LABELLED))
    assert len(report.outcomes) >= 500
    assert report.flagged_recall >= 0.95
    assert report.false_positive_rate <= 0.02
    for score in report.scores:
        assert score.recall >= 0.95, score


def test_a_labelled_file_with_bad_rows_lists_them_all() -> None:
    text = "text\texpected\n赌场\tcasino\n好的\tok\n加我\tdiversion\tsideways\n"
    with pytest.raises(InputFileError) as caught:
        parse_labelled(text, "x.tsv")
    assert [p.row for p in caught.value.problems] == [2]
    with pytest.raises(InputFileError):
        parse_labelled("words\tlabel\n", "y.tsv")


def test_the_model_trains_saves_loads_and_only_flags(tmp_path: Path) -> None:
    rows = read_labelled(LABELLED)
    model = ngram.train(rows)
    path = tmp_path / "model.pkl"
    ngram.save(model, path)
    loaded = ngram.load(path, threshold=0.3)
    result = loaded.classify("今晚来赌场玩百家乐")
    assert result is not None
    assert result[0] is ContentCategory.GAMBLING
    assert loaded.classify("") is None
    with_model = default_screener(loaded)
    assert evaluate(with_model, rows).flagged_recall >= 0.95
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(InputFileError):
        ngram.load(tmp_path / "junk.pkl")
