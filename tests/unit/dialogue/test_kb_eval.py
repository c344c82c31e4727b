"""kb_eval: reading labelled queries and the metrics of evaluate/summarize."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
import yaml

from kindbot.core.errors import InputFileError
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.kb_eval import (
    EntryMisses,
    EvalCase,
    evaluate,
    read_eval_file,
    summarize,
    top_matches,
)
from kindbot.dialogue.retrieval import DEFAULT_THRESHOLD, KnowledgeIndex, Match

CASES = [
    EvalCase("退货怎么弄", frozenset({"returns"})),
    EvalCase("邮费多少钱", frozenset({"shipping", "free"})),
    EvalCase("today's weather", frozenset()),
]


def match(entry_id: str, score: float) -> Match:
    return Match(entry_id, "q", "a", score)


def test_csv_eval_file(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    path.write_text(
        "Query,Expected\n退货怎么弄,returns\n邮费多少钱, shipping | free \ntoday's weather,NONE\n",
        encoding="utf-8-sig",
    )
    assert read_eval_file(path) == CASES


def test_xlsx_eval_file(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [
        ["query", "expected"],
        *[[c.query, "|".join(sorted(c.expected)) or "NONE"] for c in CASES],
    ]:
        sheet.append(row)
    book.save(tmp_path / "eval.xlsx")
    assert read_eval_file(tmp_path / "eval.xlsx") == CASES


def test_json_jsonl_and_yaml_eval_files(tmp_path: Path) -> None:
    docs: list[dict[str, object]] = [
        {"query": "退货怎么弄", "expected": "returns"},
        {"query": "邮费多少钱", "expected": ["shipping", "free"]},
        {"query": "today's weather", "expected": "NONE"},
    ]
    (tmp_path / "e.json").write_text(json.dumps({"entries": docs}), encoding="utf-8")
    (tmp_path / "e.jsonl").write_text(
        "\n".join(json.dumps(d) for d in docs) + "\n\n", encoding="utf-8"
    )
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(docs, allow_unicode=True), encoding="utf-8")
    for name in ("e.json", "e.jsonl", "e.yaml"):
        assert read_eval_file(tmp_path / name) == CASES


def test_eval_file_problems_name_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    path.write_text(
        "query,expected\nok,a\n,a\nno label,\nmixed,a|NONE\nbad id,has space\n",
        encoding="utf-8",
    )
    with pytest.raises(InputFileError) as caught:
        read_eval_file(path)
    found = [(p.file, p.row, p.location) for p in caught.value.problems]
    assert found == [
        (str(path), 3, "query"),
        (str(path), 4, "expected"),
        (str(path), 5, "expected"),
        (str(path), 6, "expected"),
    ]
    assert "NONE" in caught.value.problems[1].problem


def test_jsonl_problems_use_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "eval.jsonl"
    path.write_text('{"query": "q", "expected": "a"}\n\n{"query": "q"}\n[1]\n', encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_eval_file(path)
    assert [(p.row, p.problem) for p in caught.value.problems] == [(4, "entry must be an object")]
    path.write_text('{"query": "q", "expected": "a"}\n{"query": \n', encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_eval_file(path)
    assert caught.value.problems[0].location == "line 2"


def test_summarize_counts_every_outcome() -> None:
    cases = [
        EvalCase("q1", frozenset({"a"})),  # right
        EvalCase("q2", frozenset({"a"})),  # wrong answer
        EvalCase("q3", frozenset({"b"})),  # fell back (score below threshold)
        EvalCase("q4", frozenset({"b", "c"})),  # right (either id)
        EvalCase("q5", frozenset()),  # fell back correctly
        EvalCase("q6", frozenset()),  # answered although out of scope
        EvalCase("q7", frozenset({"a"})),  # nothing matched at all
    ]
    matches = [
        match("a", 0.9),
        match("b", 0.8),
        match("b", 0.3),
        match("c", 0.6),
        match("a", 0.1),
        match("a", 0.7),
        None,
    ]
    report = summarize(cases, matches, 0.5, known_ids=["a", "b"])
    assert (report.total, report.in_scope, report.out_of_scope) == (7, 5, 2)
    assert (report.answered, report.correct, report.wrong_answers, report.fallbacks) == (4, 2, 2, 3)
    assert report.top1_accuracy == pytest.approx(2 / 5)
    assert report.out_of_scope_recall == pytest.approx(1 / 2)
    assert report.fallback_recall == report.out_of_scope_recall
    assert report.fallback_precision == pytest.approx(1 / 3)
    assert report.worst_entries == (
        EntryMisses("a", 2, "q2"),
        EntryMisses("b", 1, "q3"),
    )
    assert report.unknown_ids == ("c",)
    assert report.threshold == 0.5


def test_zero_denominators_are_none() -> None:
    empty = summarize([], [], 0.5)
    assert (empty.top1_accuracy, empty.out_of_scope_recall, empty.fallback_precision) == (
        None,
        None,
        None,
    )
    only_in_scope = summarize([EvalCase("q", frozenset({"a"}))], [match("a", 1.0)], 0.5)
    assert only_in_scope.top1_accuracy == 1.0
    assert only_in_scope.out_of_scope_recall is None
    assert only_in_scope.fallback_precision is None


def test_worst_entries_keeps_ten_most_missed() -> None:
    cases = [
        EvalCase(f"q{i}-{n}", frozenset({f"e{i:02d}"})) for i in range(12) for n in range(i + 1)
    ]
    report = summarize(cases, [None] * len(cases), 0.5)
    assert [w.entry_id for w in report.worst_entries] == [f"e{i:02d}" for i in range(11, 1, -1)]
    assert report.worst_entries[0] == EntryMisses("e11", 12, "q11-0")


def test_summarize_needs_one_match_per_case() -> None:
    with pytest.raises(ValueError, match="one match"):
        summarize(CASES, [], 0.5)


def test_evaluate_with_a_real_index() -> None:
    index = KnowledgeIndex.build(
        [
            KnowledgeEntry("returns", "怎么退货", "7天无理由", ("可以退货吗", "退货流程")),
            KnowledgeEntry("shipping", "运费怎么算", "满99包邮", ("邮费多少", "包邮吗")),
        ]
    )
    cases = [
        EvalCase("退货怎么弄", frozenset({"returns"})),
        EvalCase("邮费多少钱", frozenset({"shipping"})),
        EvalCase("今天天气怎么样", frozenset()),
    ]
    report = evaluate(index, cases, DEFAULT_THRESHOLD)
    assert report.top1_accuracy == 1.0
    assert report.out_of_scope_recall == 1.0
    assert report.wrong_answers == 0
    assert report.unknown_ids == ()
    assert report == summarize(cases, top_matches(index, cases), DEFAULT_THRESHOLD, index.entry_ids)
