"""Reading knowledge files (CSV, XLSX, JSON, YAML) into :class:`KnowledgeEntry`.

The only I/O of the knowledge base. Everything is validated before anything is
returned; :class:`InputFileError` carries *all* problems, each naming the file
(the path as given), the row (CSV/XLSX: spreadsheet row, header = row 1;
JSON/YAML: 1-based entry number; JSON lines: line) and the column or key.
:func:`read_records` is the format layer, shared with ``kb_eval``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import openpyxl
import yaml

from kindbot.core.edge import check_text
from kindbot.core.errors import BadRequestError, InputFileError, InputProblem
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.normalize import normalize_text

__all__ = ["Record", "derive_id", "list_value", "read_knowledge_file", "read_records", "text_value"]

ID_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_QUESTION = 500
MAX_ANSWER = 4000
_COLUMNS = ("question", "answer", "id", "similar", "tags")


@dataclass(frozen=True, slots=True)
class Record:
    """One row or entry of an input file: keys are trimmed and case-folded."""

    row: int
    values: dict[str, Any]


_Parsed = tuple[list[Record], list[str] | None]  # records, and the header of a table


def derive_id(question: str) -> str:
    """The stable id of an entry without one: ``q-`` + 12 hex of sha1(normalised)."""
    return "q-" + hashlib.sha1(normalize_text(question).encode("utf-8")).hexdigest()[:12]


def read_records(
    path: Path,
    columns: Sequence[str],
    required: Sequence[str],
    problems: list[InputProblem],
    *,
    jsonl: bool = False,
) -> list[Record]:
    """Read ``path`` into records, choosing the format by its suffix.

    Unknown columns (keys) are appended to ``problems``: the caller validates
    the values too, then raises. A spreadsheet header lacking a ``required``
    column, and file-level problems (unsupported suffix, unreadable, not UTF-8,
    malformed, nested too deeply, no entries), raise :class:`InputFileError` at
    once. A record holding text that cannot be stored (a lone surrogate from a
    ``"\ud800"`` escape, a NUL) is a problem of its row and is left out. With
    ``jsonl``, ``.jsonl`` files (one JSON object a line, row = line) are read too.
    """
    name, suffix = str(path), path.suffix.lower()
    readers = {k: v for k, v in _READERS.items() if jsonl or k != ".jsonl"}
    if suffix not in readers:
        supported = ", ".join(sorted(readers))
        _fail(name, f"unsupported file type {suffix or '(none)'!r}; use one of {supported}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        _fail(name, f"cannot be read: {exc.strerror or exc}")
    records, header = readers[suffix](name, data)
    use = f"use {', '.join(columns)}"
    seen = header or []
    for position, column in enumerate(seen):
        if column and column not in columns:
            problems.append(InputProblem(name, 1, column, f"unknown column ({use})"))
        elif column and column in seen[:position]:
            problems.append(InputProblem(name, 1, column, "column appears twice"))
    if header is not None and (missing := [c for c in required if c not in header]):
        problems.extend(InputProblem(name, 1, c, "required column is missing") for c in missing)
        raise InputFileError(problems)
    for record in records:
        for key in record.values:
            if header is not None and key not in header:
                problems.append(InputProblem(name, record.row, key, "has a value but no header"))
            elif header is None and key not in columns:
                problems.append(InputProblem(name, record.row, key, f"unknown key ({use})"))
    storable = [r for r in records if not _invalid_text(name, r, problems)]
    if not records and not problems:
        _fail(name, "has no entries")
    return storable


def _invalid_text(name: str, record: Record, problems: list[InputProblem]) -> bool:
    """Append a problem and return True when any key or string in ``record`` is not text."""
    pending: list[tuple[str, object]] = [(key, key) for key in record.values]
    pending += list(record.values.items())
    while pending:
        column, value = pending.pop()
        if isinstance(value, str):
            try:
                check_text(value, field=column)
            except BadRequestError as exc:
                problems.append(InputProblem(name, record.row, str(column), exc.message))
                return True
        elif isinstance(value, list | tuple):
            pending.extend((column, item) for item in value)
        elif isinstance(value, dict):
            pending.extend((column, item) for item in (*value.keys(), *value.values()))
    return False


def _fail(name: str, problem: str, location: str = "") -> NoReturn:
    raise InputFileError([InputProblem(name, None, location, problem)])


def _text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _fail(name, f"is not valid UTF-8 (byte {exc.start})")


def _table(name: str, rows: list[list[Any]]) -> tuple[list[Record], list[str]]:
    """Records from a header row plus data rows; blank rows are skipped."""
    if not rows or not any(_cell(c) for c in rows[0]):
        _fail(name, "is empty (expected a header row)")
    header = [_cell(h).casefold() for h in rows[0]]
    records: list[Record] = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [_cell(c) for c in row]
        if not any(cells):
            continue
        values: dict[str, Any] = {}
        for position, cell in enumerate(cells):
            column = header[position] if position < len(header) else ""
            if column or cell:
                values.setdefault(column or f"column {position + 1}", cell)
        records.append(Record(number, values))
    return records, header


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_records(name: str, data: bytes) -> _Parsed:
    try:
        rows = list(csv.reader(io.StringIO(_text(name, data), newline="")))
    except csv.Error as exc:
        _fail(name, f"is not valid CSV: {exc}")
    return _table(name, [list(r) for r in rows])


def _xlsx_records(name: str, data: bytes) -> _Parsed:
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors alike
        _fail(name, f"is not a readable .xlsx file ({type(exc).__name__})")
    try:
        if not book.worksheets:
            _fail(name, "has no sheets")
        rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    return _table(name, rows)


def _entries(name: str, document: object) -> list[Record]:
    if isinstance(document, dict) and set(document) == {"entries"}:
        document = document["entries"]
    if document is None:
        _fail(name, "is empty")
    if not isinstance(document, list):
        _fail(name, 'must be a list of entries or {"entries": [...]}')
    return _objects(name, list(enumerate(document, start=1)))


def _objects(name: str, numbered: list[tuple[int, object]]) -> list[Record]:
    """Records from numbered JSON/YAML values, all of which must be objects."""
    if wrong := [n for n, item in numbered if not isinstance(item, dict)]:
        raise InputFileError([InputProblem(name, n, "", "entry must be an object") for n in wrong])
    return [
        Record(n, {_cell(k).casefold(): v for k, v in item.items()})
        for n, item in numbered
        if isinstance(item, dict)
    ]


def _json_records(name: str, data: bytes) -> _Parsed:
    text = _text(name, data)
    if not text.strip():
        _fail(name, "is empty")
    try:
        return _entries(name, json.loads(text)), None
    except json.JSONDecodeError as exc:
        _fail(name, f"is not valid JSON: {exc.msg} (column {exc.colno})", f"line {exc.lineno}")
    except (ValueError, RecursionError) as exc:  # huge integers, absurd nesting
        _fail(name, f"is not valid JSON: {str(exc)[:200]}")


def _yaml_records(name: str, data: bytes) -> _Parsed:
    try:
        return _entries(name, yaml.safe_load(_text(name, data))), None
    except RecursionError:
        _fail(name, "is not valid YAML: it nests too deeply")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        _fail(name, f"is not valid YAML: {getattr(exc, 'problem', None) or exc}", where)


def _jsonl_records(name: str, data: bytes) -> _Parsed:
    numbered: list[tuple[int, object]] = []
    for number, line in enumerate(_text(name, data).splitlines(), start=1):
        try:
            numbered.extend([(number, json.loads(line))] if line.strip() else [])
        except json.JSONDecodeError as exc:
            _fail(name, f"is not valid JSON: {exc.msg} (column {exc.colno})", f"line {number}")
        except (ValueError, RecursionError) as exc:  # huge integers, absurd nesting
            _fail(name, f"is not valid JSON: {str(exc)[:200]}", f"line {number}")
    return _objects(name, numbered), None


_READERS: dict[str, Callable[[str, bytes], _Parsed]] = {
    ".csv": _csv_records,
    ".xlsx": _xlsx_records,
    ".json": _json_records,
    ".jsonl": _jsonl_records,
    ".yaml": _yaml_records,
    ".yml": _yaml_records,
}


def text_value(value: object) -> str | None:
    """A scalar cell as trimmed text (numbers allowed), or None if it is not scalar."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return _cell(value)


def list_value(value: object, separators: str) -> tuple[str, ...] | None:
    """A ``separators``-separated string, or a list of scalars, as trimmed, non-empty,
    de-duplicated parts; None if the value has the wrong type."""
    texts = [text_value(v) for v in (value if isinstance(value, list) else [value])]
    if any(t is None for t in texts):
        return None
    if not isinstance(value, list):
        texts = list(re.split(f"[{re.escape(separators)}]", texts[0] or ""))
    return tuple(dict.fromkeys(s for t in texts if t and (s := t.strip())))


def read_knowledge_file(path: Path) -> list[KnowledgeEntry]:
    """Read and validate a knowledge file; raise :class:`InputFileError` with all problems.

    Columns: ``question`` and ``answer`` (required), ``id``, ``similar``
    (``|``-separated, or a list in JSON/YAML) and ``tags`` (``|`` or ``,``
    separated, or a list); parts are trimmed, empty and repeated ones dropped.
    Without an id, the id is :func:`derive_id` of the question, so importing
    the same file twice gives the same ids. Limits: question and each similar
    phrasing ≤ 500 characters, answer ≤ 4000, id ``[A-Za-z0-9_.:-]{1,64}``;
    ids (given or derived) are unique within the file.
    """
    name = str(path)
    problems: list[InputProblem] = []
    entries: dict[str, tuple[int, KnowledgeEntry]] = {}
    for record in read_records(path, _COLUMNS, ("question", "answer"), problems):
        entry = _knowledge_entry(name, record, problems)
        if entry is not None and entry.id in entries:
            column = "id" if text_value(record.values.get("id")) else "question"
            problem = f"duplicate id {entry.id!r} (first used in row {entries[entry.id][0]})"
            problems.append(InputProblem(name, record.row, column, problem))
        elif entry is not None:
            entries[entry.id] = (record.row, entry)
    if problems:
        raise InputFileError(problems)
    return [entry for _, entry in entries.values()]


def _knowledge_entry(
    name: str, record: Record, problems: list[InputProblem]
) -> KnowledgeEntry | None:
    def problem(column: str, text: str) -> None:
        problems.append(InputProblem(name, record.row, column, text))

    before = len(problems)
    fields: dict[str, str] = {}
    for column, limit in (("question", MAX_QUESTION), ("answer", MAX_ANSWER), ("id", 64)):
        raw = text_value(record.values.get(column))
        value = fields[column] = raw or ""
        if raw is None:
            problem(column, "must be text")
        elif not value and column != "id":
            problem(column, "is missing" if column not in record.values else "is empty")
        elif column == "id" and value and not ID_PATTERN.fullmatch(value):
            problem(column, f"{value!r} is not a valid id (1-64 of A-Z a-z 0-9 _ . : -)")
        elif len(value) > limit:
            problem(column, f"is {len(value)} characters long (at most {limit})")
    similar = list_value(record.values.get("similar"), "|")
    tags = list_value(record.values.get("tags"), "|,")
    if similar is None:
        problem("similar", "must be text or a list of texts")
    elif any(len(s) > MAX_QUESTION for s in similar):
        problem("similar", f"has a phrasing longer than {MAX_QUESTION} characters")
    if tags is None:
        problem("tags", "must be text or a list of texts")
    if len(problems) > before or similar is None or tags is None:
        return None
    entry_id = fields["id"] or derive_id(fields["question"])
    return KnowledgeEntry(entry_id, fields["question"], fields["answer"], similar, tags)
