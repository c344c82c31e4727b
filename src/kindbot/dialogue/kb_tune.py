"""Choosing a tenant's answer threshold from labelled queries (pure).

The objective is *accuracy with fallback*: the share of labelled queries
handled right — an in-scope query answered with an expected entry, or an
out-of-scope (``NONE``) query that fell back. A wrong answer and a needless
fallback cost the same. Every threshold of :data:`GRID` is scored on one
search per query (:func:`kindbot.dialogue.kb_eval.top_matches`); the middle of
the first run of best-scoring thresholds is chosen, so the choice does not sit
on the edge of a plateau.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kindbot.dialogue.kb_eval import EvalCase, EvalReport, summarize
from kindbot.dialogue.retrieval import Match

__all__ = ["GRID", "ThresholdChoice", "accuracy_with_fallback", "choose_threshold"]

GRID: tuple[float, ...] = tuple(round(0.05 + 0.01 * i, 2) for i in range(91))
"""Thresholds tried: 0.05, 0.06, …, 0.95."""


@dataclass(frozen=True, slots=True)
class ThresholdChoice:
    """The chosen threshold, its accuracy with fallback and its full report."""

    threshold: float
    accuracy: float
    report: EvalReport


def accuracy_with_fallback(report: EvalReport) -> float:
    """(right answers + fallbacks on NONE queries) / all queries (0 when empty)."""
    return report.accuracy_with_fallback or 0.0


def choose_threshold(
    cases: Sequence[EvalCase], matches: Sequence[Match | None], grid: Sequence[float] = GRID
) -> ThresholdChoice:
    """The threshold of ``grid`` that maximises accuracy with fallback on ``cases``.

    ``matches`` holds each case's best match (or ``None``). Raises
    ``ValueError`` when ``cases`` or ``grid`` is empty.
    """
    if not cases or not grid:
        raise ValueError("need at least one labelled query and one threshold")
    scored = [(t, accuracy_with_fallback(summarize(cases, matches, t))) for t in sorted(grid)]
    best = max(score for _, score in scored)
    first = next(i for i, (_, score) in enumerate(scored) if score == best)
    last = first
    while last + 1 < len(scored) and scored[last + 1][1] == best:
        last += 1
    threshold = scored[(first + last) // 2][0]
    return ThresholdChoice(threshold, best, summarize(cases, matches, threshold))
