"""read_knowledge_file: every format, every problem reported with file/row/column."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
import pytest
import yaml

from kindbot.core.errors import InputFileError, InputProblem
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.kb_files import derive_id, read_knowledge_file
from kindbot.dialogue.normalize import normalize_text

EXPECTED = [
    KnowledgeEntry("ship", "运费怎么算？", "满99包邮", ("邮费多少", "包邮吗"), ("物流",)),
    KnowledgeEntry(
        derive_id("How do I return an item?"),
        "How do I return an item?",
        "Within 7 days.",
        ("refund",),
        ("after-sales", "returns"),
    ),
]


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def problems(path: Path) -> list[InputProblem]:
    with pytest.raises(InputFileError) as caught:
        read_knowledge_file(path)
    return list(caught.value.problems)


def test_csv_round_trip_with_bom_and_messy_headers(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(
        " Question ,ANSWER,Id,similar,Tags\n"
        '运费怎么算？,满99包邮,ship," 邮费多少 || 包邮吗 |",物流\n'
        "\n"
        'How do I return an item?,Within 7 days.,,refund,"after-sales, returns"\n',
        encoding="utf-8-sig",
    )
    assert read_knowledge_file(path) == EXPECTED


def test_xlsx_round_trip(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "faq.xlsx",
        [
            ["question", "answer", "id", "similar", "tags"],
            ["运费怎么算？", "满99包邮", "ship", "邮费多少|包邮吗", "物流"],
            ["How do I return an item?", "Within 7 days.", None, "refund", "after-sales|returns"],
        ],
    )
    assert read_knowledge_file(path) == EXPECTED


def as_documents() -> list[dict[str, object]]:
    return [
        {"id": "ship", "question": "运费怎么算？", "answer": "满99包邮",
         "similar": ["邮费多少", " 包邮吗 ", ""], "tags": "物流"},
        {"Question": "How do I return an item?", "answer": "Within 7 days.",
         "similar": "refund", "tags": ["after-sales", "returns"]},
    ]  # fmt: skip


@pytest.mark.parametrize("wrapped", [False, True])
def test_json_round_trip(tmp_path: Path, wrapped: bool) -> None:
    path = tmp_path / "faq.json"
    docs = as_documents()
    path.write_text(json.dumps({"entries": docs} if wrapped else docs), encoding="utf-8")
    assert read_knowledge_file(path) == EXPECTED


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
@pytest.mark.parametrize("wrapped", [False, True])
def test_yaml_round_trip(tmp_path: Path, suffix: str, wrapped: bool) -> None:
    path = tmp_path / f"faq{suffix}"
    docs = as_documents()
    path.write_text(yaml.safe_dump({"entries": docs} if wrapped else docs, allow_unicode=True))
    assert read_knowledge_file(path) == EXPECTED


def test_numeric_ids_in_yaml_and_xlsx_become_text(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text("- {id: 42, question: q, answer: a}\n", encoding="utf-8")
    assert read_knowledge_file(path)[0].id == "42"
    sheet = write_xlsx(tmp_path / "n.xlsx", [["id", "question", "answer"], [7, "q", "a"]])
    assert read_knowledge_file(sheet)[0].id == "7"


def test_derived_ids_are_stable_and_normalised(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text("question,answer\n退貨怎麼辦,a\n", encoding="utf-8")
    first = read_knowledge_file(path)
    assert first == read_knowledge_file(path)
    assert first[0].id == derive_id("退货怎么办") == derive_id("  退貨怎麼辦 ")
    assert first[0].id.startswith("q-")
    assert len(first[0].id) == 14
    digest = hashlib.sha1(normalize_text("退貨怎麼辦").encode()).hexdigest()[:12]
    assert first[0].id == "q-" + digest


def test_every_row_problem_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(
        "question,answer,id\n"
        "ok,fine,a\n"
        ",missing question,b\n"
        "no answer,,c\n"
        f"{'长' * 501},too long,d\n"
        f"x,{'y' * 4001},e\n"
        "bad id,fine,has space\n"
        "dup,fine,a\n",
        encoding="utf-8",
    )
    found = {(p.row, p.location): p.problem for p in problems(path)}
    assert found == {
        (3, "question"): "is empty",
        (4, "answer"): "is empty",
        (5, "question"): "is 501 characters long (at most 500)",
        (6, "answer"): "is 4001 characters long (at most 4000)",
        (7, "id"): "'has space' is not a valid id (1-64 of A-Z a-z 0-9 _ . : -)",
        (8, "id"): "duplicate id 'a' (first used in row 2)",
    }


def test_problem_text_names_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text("question,answer\n" + "q,a\n" * 5 + "q7,\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_knowledge_file(path)
    duplicate = f"question: duplicate id {derive_id('q')!r} (first used in row 2)"
    assert str(caught.value).splitlines() == [
        *(f"{path}, row {row}, {duplicate}" for row in (3, 4, 5, 6)),
        f"{path}, row 7, answer: is empty",
    ]
    assert caught.value.code == "invalid_file"


def test_same_question_twice_is_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "faq.json"
    docs = [{"question": "运费", "answer": "a"}, {"question": " 運費 ", "answer": "b"}]
    path.write_text(json.dumps(docs), encoding="utf-8")
    [problem] = problems(path)
    assert (problem.row, problem.location) == (2, "question")
    assert "duplicate id" in problem.problem


def test_unknown_and_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text("question,anwser,colour\nq,a,red\n", encoding="utf-8")
    found = [(p.row, p.location, p.problem.split(" (")[0]) for p in problems(path)]
    assert found == [
        (1, "anwser", "unknown column"),
        (1, "colour", "unknown column"),
        (1, "answer", "required column is missing"),
    ]


def test_duplicate_header_and_headerless_values(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "faq.xlsx",
        [["question", "answer", "Answer"], ["q", "a", "b", "stray"]],
    )
    found = [(p.row, p.location, p.problem) for p in problems(path)]
    assert found == [
        (1, "answer", "column appears twice"),
        (2, "column 4", "has a value but no header"),
    ]


def test_json_entry_problems(tmp_path: Path) -> None:
    path = tmp_path / "faq.json"
    docs = [
        {"question": "q1", "answer": "a", "extra": 1},
        {"question": "q2"},
        {"question": ["not", "text"], "answer": "a"},
        {"question": "q4", "answer": "a", "similar": [{"x": 1}], "tags": 5.5},
    ]
    path.write_text(json.dumps(docs), encoding="utf-8")
    found = {(p.row, p.location): p.problem.split(" (")[0] for p in problems(path)}
    assert found == {
        (1, "extra"): "unknown key",
        (2, "answer"): "is missing",
        (3, "question"): "must be text",
        (4, "similar"): "must be text or a list of texts",
    }


def test_json_entries_must_be_objects(tmp_path: Path) -> None:
    path = tmp_path / "faq.json"
    path.write_text('[{"question": "q", "answer": "a"}, "oops", 3]', encoding="utf-8")
    assert [(p.row, p.problem) for p in problems(path)] == [
        (2, "entry must be an object"),
        (3, "entry must be an object"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "location", "problem"),
    [
        ("faq.txt", b"x", "", "unsupported file type '.txt'"),
        ("faq", b"x", "", "unsupported file type '(none)'"),
        ("faq.csv", b"", "", "is empty"),
        ("faq.csv", b"question,answer\n", "", "has no entries"),
        ("faq.csv", b"question,answer\n\xff\xfe,a\n", "", "is not valid UTF-8"),
        ("faq.json", b"", "", "is empty"),
        ("faq.json", b'[{"question": "q",\n "answer": }]', "line 2", "is not valid JSON"),
        ("faq.json", b'{"question": "q"}', "", "must be a list of entries"),
        ("faq.json", b"[]", "", "has no entries"),
        ("faq.yaml", b"- question: q\n  answer: [a\n", "line 3", "is not valid YAML"),
        ("faq.yaml", b"", "", "is empty"),
        ("faq.xlsx", b"not a zip", "", "is not a readable .xlsx file"),
        ("faq.jsonl", b'{"question": "q", "answer": "a"}', "", "unsupported file type"),
    ],
)
def test_file_level_problems(
    tmp_path: Path, name: str, content: bytes, location: str, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    [found] = problems(path)
    assert found.file == str(path)
    assert found.row is None
    assert found.location == location
    assert found.problem.startswith(problem)


def test_missing_file(tmp_path: Path) -> None:
    [found] = problems(tmp_path / "nope.csv")
    assert found.row is None
    assert found.problem.startswith("cannot be read")


def test_empty_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "faq.xlsx", [])
    [found] = problems(path)
    assert found.problem.startswith("is empty")
