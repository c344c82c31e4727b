"""Evaluating a knowledge base on labelled queries.

A labelled query (:class:`EvalCase`) names the entry ids that are acceptable
answers, or none (``NONE`` in the file): then the bot must fall back ("not
sure") instead of answering. :func:`evaluate` is pure; :func:`read_eval_file`
is the only I/O and reports problems like :func:`read_knowledge_file` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kindbot.core.errors import InputFileError, InputProblem
from kindbot.dialogue.kb_files import ID_PATTERN, list_value, read_records, text_value
from kindbot.dialogue.retrieval import KnowledgeIndex, Match

__all__ = [
    "NONE",
    "EntryMisses",
    "EvalCase",
    "EvalReport",
    "evaluate",
    "read_eval_file",
    "summarize",
    "top_matches",
]

NONE = "NONE"
"""The ``expected`` value of a query the knowledge base must not answer."""

_COLUMNS = ("query", "expected")
MAX_QUERY = 2000


@dataclass(frozen=True, slots=True)
class EvalCase:
    """A query and the entry ids that answer it; empty ``expected`` = must fall back."""

    query: str
    expected: frozenset[str]


@dataclass(frozen=True, slots=True)
class EntryMisses:
    """An expected entry that was not given: how often, and one query that missed it."""

    entry_id: str
    misses: int
    example_query: str


@dataclass(frozen=True, slots=True)
class EvalReport:
    """The outcome of answering every case at one threshold.

    * ``top1_accuracy``: in-scope cases answered with an expected id / in-scope cases.
    * ``out_of_scope_recall`` (= ``fallback_recall``): NONE cases that fell back /
      NONE cases.
    * ``fallback_precision``: fallbacks on NONE cases / all fallbacks.
    * ``wrong_answers``: answers whose id was not expected (NONE cases included).
    * ``worst_entries``: up to 10 expected ids with the most misses (an in-scope
      case missed counts against each of its expected ids), most misses first.
    * ``unknown_ids``: expected ids that are not in the index (always missed).
    * ``accuracy_with_fallback``: (right answers + fallbacks on NONE cases) /
      all cases — what ``kindbot kb tune`` maximises.

    A ratio is ``None`` when its denominator is zero.
    """

    threshold: float
    total: int
    in_scope: int
    out_of_scope: int
    answered: int
    correct: int
    wrong_answers: int
    fallbacks: int
    top1_accuracy: float | None
    out_of_scope_recall: float | None
    fallback_precision: float | None
    fallback_recall: float | None
    worst_entries: tuple[EntryMisses, ...]
    unknown_ids: tuple[str, ...]
    accuracy_with_fallback: float | None = None


def read_eval_file(path: Path) -> list[EvalCase]:
    """Read labelled queries from CSV, XLSX, JSON, JSON lines or YAML.

    Columns: ``query`` and ``expected``: one id, several ids separated by ``|``
    (a list in JSON/YAML), or ``NONE``. Raises :class:`InputFileError` with all
    problems, each naming file, row and column.
    """
    name = str(path)
    problems: list[InputProblem] = []
    cases: list[EvalCase] = []
    for record in read_records(path, _COLUMNS, _COLUMNS, problems, jsonl=True):

        def problem(column: str, text: str, row: int = record.row) -> None:
            problems.append(InputProblem(name, row, column, text))

        query = text_value(record.values.get("query"))
        expected = list_value(record.values.get("expected"), "|")
        if query is None:
            problem("query", "must be text")
        elif not query:
            problem("query", "is missing" if "query" not in record.values else "is empty")
        elif len(query) > MAX_QUERY:
            problem("query", f"is {len(query)} characters long (at most {MAX_QUERY})")
        if expected is None:
            problem("expected", "must be an id, ids separated by |, or NONE")
        elif not expected:
            problem("expected", f"is empty (write {NONE} for queries that must not be answered)")
        elif NONE in expected and len(expected) > 1:
            problem("expected", f"{NONE} cannot be combined with ids")
        elif bad := [i for i in expected if i != NONE and not ID_PATTERN.fullmatch(i)]:
            problem("expected", f"{bad[0]!r} is not a valid id")
        elif query:
            cases.append(EvalCase(query, frozenset(expected) - {NONE}))
    if problems:
        raise InputFileError(problems)
    return cases


def top_matches(index: KnowledgeIndex, cases: Sequence[EvalCase]) -> list[Match | None]:
    """The best match of each case's query (``None`` when nothing matches at all)."""
    results: list[Match | None] = []
    for case in cases:
        found = index.search(case.query, limit=1)
        results.append(found[0] if found else None)
    return results


def evaluate(index: KnowledgeIndex, cases: Sequence[EvalCase], threshold: float) -> EvalReport:
    """Answer every case with ``index`` at ``threshold`` and summarise the outcome."""
    return summarize(cases, top_matches(index, cases), threshold, index.entry_ids)


def summarize(
    cases: Sequence[EvalCase],
    matches: Sequence[Match | None],
    threshold: float,
    known_ids: Sequence[str] | None = None,
) -> EvalReport:
    """The report for ``cases`` given each one's best match (see :func:`top_matches`).

    Lets a caller sweep thresholds without searching again. ``known_ids`` (the
    index's ids) fills ``unknown_ids``; ``None`` skips that check.
    """
    if len(matches) != len(cases):
        raise ValueError("one match (or None) per case is needed")
    answered = correct = wrong = fallbacks_none = 0
    misses: dict[str, list[str]] = {}
    for case, match in zip(cases, matches, strict=True):
        given = match.entry_id if match is not None and match.score >= threshold else None
        answered += given is not None
        if given is None:
            fallbacks_none += not case.expected
        elif given in case.expected:
            correct += 1
        else:
            wrong += 1
        if case.expected and given not in case.expected:
            for entry_id in sorted(case.expected):
                misses.setdefault(entry_id, []).append(case.query)
    in_scope = sum(1 for c in cases if c.expected)
    fallbacks = len(cases) - answered
    recall = _ratio(fallbacks_none, len(cases) - in_scope)
    worst = sorted(misses.items(), key=lambda item: (-len(item[1]), item[0]))[:10]
    expected_ids = {i for c in cases for i in c.expected}
    return EvalReport(
        threshold=threshold,
        total=len(cases),
        in_scope=in_scope,
        out_of_scope=len(cases) - in_scope,
        answered=answered,
        correct=correct,
        wrong_answers=wrong,
        fallbacks=fallbacks,
        top1_accuracy=_ratio(correct, in_scope),
        out_of_scope_recall=recall,
        fallback_precision=_ratio(fallbacks_none, fallbacks),
        fallback_recall=recall,
        worst_entries=tuple(EntryMisses(i, len(q), q[0]) for i, q in worst),
        unknown_ids=() if known_ids is None else tuple(sorted(expected_ids - set(known_ids))),
        accuracy_with_fallback=_ratio(correct + fallbacks_none, len(cases)),
    )


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
