"""Fuzzing knowledge files (CSV, XLSX, JSON, YAML) and flow slot parsing (issue 13).

Property: a knowledge file gives storable entries or an :class:`InputFileError`
naming its problems — never another exception; a slot parser returns a value
or ``None``, never raises.
"""

from __future__ import annotations

import io
import json
import tempfile
from datetime import date
from pathlib import Path

import openpyxl
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kindbot.core.errors import InputFileError
from kindbot.dialogue.kb_files import read_knowledge_file
from kindbot.dialogue.slots import SlotType, valid_value
from tests.fuzz.support import FUZZ, nasty_text, storable

FILES = settings(FUZZ, max_examples=40)  # each example writes and reads a file

cells = st.one_of(
    nasty_text,
    st.integers(),
    st.floats(),
    st.none(),
    st.booleans(),
    st.sampled_from(["q" * 501, "a" * 4001, "bad id!", "x|y|x", "t1,t2"]),
)
COLUMNS = ["question", "answer", "id", "similar", "tags", "other", "Question "]
rows = st.lists(st.fixed_dictionaries({}, optional={c: cells for c in COLUMNS}), max_size=5)


def _csv(records: list[dict[str, object]]) -> bytes:
    header = COLUMNS
    lines = [",".join(header)]
    for record in records:
        lines.append(
            ",".join('"' + str(record.get(c, "")).replace('"', '""') + '"' for c in header)
        )
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def _xlsx(records: list[dict[str, object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(COLUMNS)
    for record in records:
        values = [record.get(c) for c in COLUMNS]
        sheet.append(
            [v if not isinstance(v, str) else v.encode("utf-8", "replace").decode() for v in values]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@st.composite
def knowledge_files(draw: st.DrawFn) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from([".csv", ".json", ".yaml", ".xlsx"]))
    kind = draw(st.sampled_from(["records", "records", "bytes", "deep", "cut"]))
    if kind == "bytes":
        return suffix, draw(st.binary(max_size=300))
    if kind == "deep":
        depth = draw(st.sampled_from([50, 3000]))
        return suffix, b"[" * depth + b"]" * depth
    records = draw(rows)
    if suffix == ".csv":
        data = _csv(records)
    elif suffix == ".json":
        data = json.dumps(records).encode("ascii")
    elif suffix == ".yaml":
        data = json.dumps({"entries": records}).encode("ascii")  # JSON is YAML
    else:
        data = _xlsx([{k: v for k, v in r.items() if not isinstance(v, bool)} for r in records])
    if kind == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    return suffix, data


@FILES
@given(knowledge_files())
def test_knowledge_files(file: tuple[str, bytes]) -> None:
    suffix, data = file
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"faq{suffix}"
        path.write_bytes(data)
        try:
            entries = read_knowledge_file(path)
        except InputFileError as exc:
            problems = exc.problems
        else:
            problems = ()
            storable(entries)
    assert all(p.file == str(path) and p.problem for p in problems)


@FUZZ
@given(
    st.one_of(nasty_text, st.sampled_from(["", "\ud800" * 3, "明天", "2026-02-30", "13800138000"]))
)
def test_yaml_text_of_any_kind(text: str) -> None:
    document = yaml.safe_dump({"entries": [{"question": text, "answer": "a"}]}, allow_unicode=True)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "faq.yaml"
        path.write_bytes(document.encode("utf-8", "surrogatepass"))
        try:
            storable(read_knowledge_file(path))
        except InputFileError as exc:
            problems = exc.problems
        else:
            problems = ()
    assert all(p.problem for p in problems)


@FUZZ
@given(
    st.sampled_from(list(SlotType)),
    st.one_of(nasty_text, st.text(alphabet="0123456789０１２３٣月日号/-. 年明天后今", max_size=30)),
    st.lists(nasty_text, max_size=4),
    st.sampled_from([None, r"TS-\d{4}-\d{4}", r"\d*", r"[A-Z]{2}\d+"]),
    st.dates(),
)
def test_slot_values(
    kind: SlotType, text: str, choices: list[str], pattern: str | None, today: date
) -> None:
    value = valid_value(kind, text, today=today, choices=choices, pattern=pattern)
    assert value is None or isinstance(value, str)
