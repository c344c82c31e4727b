"""Labelled moderation sets and the quality report of a screener on them.

A set is a UTF-8 TSV with a header: ``text``, ``expected`` (``ok`` or a
:class:`ContentCategory`) and optionally ``direction`` (``inbound`` — the
default, every category counts — or ``outbound``). A row is *predicted* as
the categories of its verdict (``flag`` or ``block``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kindbot.core.errors import InputFileError, InputProblem
from kindbot.core.screening import ContentCategory, ContentContext, Direction, Screener

OK = "ok"


@dataclass(frozen=True, slots=True)
class LabelledText:
    """One row: the text, its expected label (``ok`` or a category), its direction."""

    text: str
    expected: str
    direction: Direction = Direction.INBOUND


@dataclass(frozen=True, slots=True)
class CategoryScore:
    category: str
    support: int
    predicted: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.support if self.support else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """A row and what the screener said (its categories; empty: ok)."""

    row: LabelledText
    predicted: tuple[str, ...]

    @property
    def correct(self) -> bool:
        if self.row.expected == OK:
            return not self.predicted
        return self.row.expected in self.predicted


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Per-category scores, and the two headline figures.

    ``flagged_recall``: share of rows expected in a category that got *any*
    finding; ``false_positive_rate``: share of ``ok`` rows that got one.
    """

    scores: tuple[CategoryScore, ...]
    outcomes: tuple[Outcome, ...]

    @property
    def false_positives(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.row.expected == OK and o.predicted]

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.row.expected != OK and not o.correct]

    @property
    def flagged_recall(self) -> float:
        bad = [o for o in self.outcomes if o.row.expected != OK]
        return sum(1 for o in bad if o.predicted) / len(bad) if bad else 1.0

    @property
    def false_positive_rate(self) -> float:
        ok = [o for o in self.outcomes if o.row.expected == OK]
        return len(self.false_positives) / len(ok) if ok else 0.0


def parse_labelled(text: str, source: str = "<input>") -> list[LabelledText]:
    """Rows of a labelled TSV; raises :class:`InputFileError` listing every bad row."""
    reader = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    missing = {"text", "expected"} - set(reader.fieldnames or [])
    if missing:
        problem = InputProblem(source, 1, "header", f"missing columns: {sorted(missing)}")
        raise InputFileError([problem])
    rows, problems = [], []
    labels = {OK, *ContentCategory}
    for number, record in enumerate(reader, start=2):
        expected = (record.get("expected") or "").strip().lower()
        direction = (record.get("direction") or "").strip().lower() or Direction.INBOUND.value
        if expected not in labels or direction not in {d.value for d in Direction}:
            what = f"bad label {expected!r} or direction {direction!r}"
            problems.append(InputProblem(source, number, "expected", what))
            continue
        rows.append(LabelledText(record.get("text") or "", expected, Direction(direction)))
    if problems:
        raise InputFileError(problems)
    return rows


def read_labelled(path: Path) -> list[LabelledText]:
    """:func:`parse_labelled` of a file; unreadable files raise :class:`InputFileError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError([InputProblem(str(path), None, "", f"cannot read: {exc}")]) from exc
    return parse_labelled(text, str(path))


def evaluate(screener: Screener, rows: Sequence[LabelledText]) -> EvalReport:
    """Screen every row and score the categories found against the labels."""
    outcomes = []
    for row in rows:
        verdict = screener.screen(row.text, ContentContext(direction=row.direction))
        outcomes.append(Outcome(row, tuple(c.value for c in verdict.categories)))
    scores = []
    for category in ContentCategory:
        support = sum(1 for o in outcomes if o.row.expected == category)
        predicted = sum(1 for o in outcomes if category in o.predicted)
        hits = sum(1 for o in outcomes if o.row.expected == category and category in o.predicted)
        if support or predicted:
            scores.append(CategoryScore(category.value, support, predicted, hits))
    return EvalReport(tuple(scores), tuple(outcomes))
