"""Fusing the rankers into one calibrated confidence per candidate (pure).

For a query, the candidates are the entries best ranked by the lexical
rankers (:data:`LEXICAL_CANDIDATES`) and by the classifier
(:data:`CLASSIFIER_CANDIDATES`). Each candidate gets the features of
:data:`FEATURES`; a logistic model turns them into the probability that the
candidate is a right answer. The *gap* features compare a candidate with the
best other entry, so a clear winner is more confident than the best of
several look-alikes.

The model (:class:`Calibration`) is fitted per knowledge base on held-out
phrasings of its own entries (:mod:`kindbot.dialogue.calibrate`); when there
are too few, :data:`DEFAULT_CALIBRATION` (or
:data:`DEFAULT_LEXICAL_CALIBRATION` without a classifier) is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kindbot.dialogue.lexical import LexicalScores

__all__ = [
    "DEFAULT_CALIBRATION",
    "DEFAULT_LEXICAL_CALIBRATION",
    "FEATURES",
    "Calibration",
    "Candidates",
    "candidates",
]

FEATURES = ("best", "centroid", "bm25", "lexical_gap", "classifier", "classifier_gap")
"""Candidate features, in column order; the last two are 0 without a classifier."""
LEXICAL_CANDIDATES = 20
CLASSIFIER_CANDIDATES = 5

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Calibration:
    """A logistic model over :data:`FEATURES`; ``examples`` = held-out queries it
    was fitted on (0: a built-in default)."""

    weights: tuple[float, ...]
    bias: float
    examples: int = 0

    def probability(self, features: FloatArray) -> FloatArray:
        """P(right answer) of each row of ``features`` (candidates x FEATURES)."""
        logits = features @ np.asarray(self.weights) + self.bias
        result: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0)))
        return result


# With a classifier, a knowledge base falls back to the default only when it is
# tiny (too few held-out phrasings to fit its own model). There a clear winner
# among a handful of entries means little, so this default is deliberately more
# cautious than the one fitted on pooled data by bench/kb_fit_defaults.py
# ((1.83, 4.29, 0.66, 4.20, 2.63, 2.82), -2.33), which answered "能用先用后付吗"
# from "花呗能用吗" with 0.61 in a three-entry shop.
DEFAULT_CALIBRATION = Calibration((2.0, 3.0, 2.0, 6.0, 1.5, 3.0), -5.0)
# Without a classifier (one phrasing per entry, or over the classifier's
# budget): fitted by bench/kb_fit_defaults.py on pooled CLINC150 + BANKING77
# (CC BY) with 3 phrasings per entry; rounded.
DEFAULT_LEXICAL_CALIBRATION = Calibration((2.73, 4.27, 1.09, 4.56, 0.0, 0.0), -4.64)


@dataclass(frozen=True, slots=True)
class Candidates:
    """Entry positions and their feature rows (candidates x FEATURES)."""

    entries: NDArray[np.intp]
    features: FloatArray


def _top(values: FloatArray, count: int) -> NDArray[np.intp]:
    if len(values) <= count:
        return np.arange(len(values), dtype=np.intp)
    return np.argpartition(-values, count)[:count].astype(np.intp)


def _gap(values: FloatArray, chosen: NDArray[np.intp]) -> FloatArray:
    """``values[c]`` minus the best value of any other entry, for each chosen ``c``."""
    if len(values) < 2:
        return np.zeros(len(chosen))
    first, second = np.argpartition(-values, 1)[:2]
    if values[second] > values[first]:
        first, second = second, first
    others = np.where(chosen == first, values[second], values[first])
    result: FloatArray = values[chosen] - others
    return result


def candidates(lexical: LexicalScores, decision: FloatArray | None) -> Candidates:
    """The candidate entries of one query and their features."""
    mean = (lexical.best + lexical.centroid) / 2.0
    chosen = _top(mean, LEXICAL_CANDIDATES)
    chosen = chosen[mean[chosen] > 0.0]
    if decision is not None:
        chosen = np.union1d(chosen, _top(decision, CLASSIFIER_CANDIDATES)).astype(np.intp)
    columns = [
        lexical.best[chosen],
        lexical.centroid[chosen],
        lexical.bm25[chosen],
        _gap(mean, chosen),
    ]
    if decision is None:
        columns += [np.zeros(len(chosen)), np.zeros(len(chosen))]
    else:
        columns += [decision[chosen], _gap(decision, chosen)]
    return Candidates(chosen, np.column_stack(columns) if len(chosen) else np.zeros((0, 6)))
