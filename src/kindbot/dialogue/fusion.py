"""Fusing the rankers into one calibrated confidence per candidate (pure).

For a query, the candidates are the entries best ranked by the lexical
rankers (:data:`LEXICAL_CANDIDATES`), by the classifier
(:data:`CLASSIFIER_CANDIDATES`) and by the sentence vectors
(:data:`~kindbot.dialogue.dense.DENSE_CANDIDATES`). Each candidate gets the
features of :data:`FEATURES`: the words' scores against the entry's
phrasings (TF-IDF best and centroid cosine, BM25) and against its answer,
the classifier's decision, and the sentence vector's cosine to the closest
phrasing and to the answer. A linear reranker orders them and a logistic
model turns the top candidate's inputs into the probability that it is a
right answer. The *gap* features compare a candidate with the best other
entry, so a clear winner is more confident than the best of several
look-alikes.

The model (:class:`Calibration`) is fitted per knowledge base on held-out
phrasings of its own entries (:mod:`kindbot.dialogue.calibrate`); when there
are too few, :data:`DEFAULT_CALIBRATION` (or
:data:`DEFAULT_LEXICAL_CALIBRATION` without a classifier) is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kindbot.dialogue.dense import DENSE_CANDIDATES, DenseScores
from kindbot.dialogue.lexical import LexicalScores

__all__ = [
    "DEFAULT_CALIBRATION",
    "DEFAULT_DENSE_CALIBRATION",
    "DEFAULT_LEXICAL_CALIBRATION",
    "FEATURES",
    "Calibration",
    "Candidates",
    "candidates",
    "choose",
    "confidence_inputs",
]

FEATURES = (
    "best",
    "centroid",
    "bm25",
    "lexical_gap",
    "classifier",
    "classifier_gap",
    "dense",
    "dense_gap",
    "dense_answer",
    "answer_words",
)
"""Candidate features, in column order; the classifier's are 0 without a
classifier, the dense ones 0 without sentence vectors."""
DENSE_COLUMNS = (6, 7, 8)
CLASSIFIER_COLUMNS = (4, 5)
LEXICAL_CANDIDATES = 20
CLASSIFIER_CANDIDATES = 5

FloatArray = NDArray[np.float64]


CONFIDENCE_FEATURES = (
    "rank",
    "rank_margin",
    "best",
    "centroid",
    "bm25",
    "classifier",
    "dense",
    "dense_gap",
)
"""Inputs of the confidence model: a candidate's rank score, its margin over the
best other candidate (capped at ±:data:`MARGIN_CAP`), and its raw scores."""
MARGIN_CAP = 10.0


@dataclass(frozen=True, slots=True)
class Calibration:
    """The fusion: a linear reranker and a logistic confidence model.

    ``rank_weights`` (over :data:`FEATURES`) orders the candidates;
    ``confidence_weights`` and ``confidence_bias`` (over
    :data:`CONFIDENCE_FEATURES`) give the probability that a candidate is a
    right answer, fitted on the *top* candidates of held-out queries, so the
    best match's score is calibrated as "P(this answer is right)".
    ``examples`` = held-out queries it was fitted on (0: a built-in default).
    """

    rank_weights: tuple[float, ...]
    confidence_weights: tuple[float, ...]
    confidence_bias: float
    examples: int = 0

    def rank(self, features: FloatArray) -> FloatArray:
        """The rank score of each row of ``features`` (candidates x FEATURES)."""
        result: FloatArray = features @ np.asarray(self.rank_weights)
        return result

    def probability(self, features: FloatArray) -> FloatArray:
        """P(right answer) of each candidate (rows of ``features``, one query's)."""
        inputs = confidence_inputs(features, self.rank(features))
        logits = inputs @ np.asarray(self.confidence_weights) + self.confidence_bias
        result: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0)))
        return result


def confidence_inputs(features: FloatArray, ranks: FloatArray) -> FloatArray:
    """The :data:`CONFIDENCE_FEATURES` rows of one query's candidates."""
    if len(ranks) == 0:
        return np.zeros((0, len(CONFIDENCE_FEATURES)))
    if len(ranks) == 1:
        margins = np.full(1, MARGIN_CAP)
    else:
        first, second = np.argsort(-ranks, kind="stable")[:2]
        others = np.where(np.arange(len(ranks)) == first, ranks[second], ranks[first])
        margins = np.clip(ranks - others, -MARGIN_CAP, MARGIN_CAP)
    raw = features[:, [0, 1, 2, 4, 6, 7]]
    return np.column_stack([ranks, margins, raw])


# With a classifier, a knowledge base uses the default only when it is too small
# to fit its own model (a few dozen entries). There a clear winner among a
# handful of entries means little, and the model fitted on pooled data by
# bench/kb_fit_defaults.py (rank (1.89, 2.56, 0.80, 5.64, 2.36, 4.11),
# confidence (0.38, 0.35, -0.41, 0.47, -0.23, 0.11), -0.61) answered "股票推荐"
# in a five-entry shop. So this default is a deliberately cautious hand-set
# one: confidence = sigmoid(rank score - 5), only strong lexical evidence
# clears the default threshold.
DEFAULT_CALIBRATION = Calibration(
    (2.0, 3.0, 2.0, 6.0, 1.5, 3.0, 0.0, 0.0, 0.0, 0.0),
    (1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    -5.0,
)
# Without a classifier (one phrasing per entry, or over the classifier's
# budget, i.e. large knowledge bases): fitted by bench/kb_fit_defaults.py on
# pooled CLINC150 + BANKING77 (CC BY) with 3 phrasings per entry; rounded.
DEFAULT_LEXICAL_CALIBRATION = Calibration(
    (2.12, 3.15, 1.04, 6.13, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    (0.44, 0.22, -0.45, 0.48, -0.01, 0.0, 0.0, 0.0),
    -1.59,
)
# With sentence vectors and no knowledge-base-specific fit (one question per
# entry: nothing to hold out). Fitted by bench/kb_fit_defaults.py on four
# Chinese shop FAQs (bench/data: general shop, tea, phone repair, bakery; one
# question per entry, held-out customer queries, 15-18 % out of scope) and
# CLINC150 and BANKING77 with one phrasing per intent; rounded. The reranker's weights are
# the mean of the four leave-one-shop-out fits (the closest phrasing's cosine
# first, then the words against the answer, the answer's cosine and the
# words' centroid cosine); the confidence weighs out-of-scope queries 3x, so
# that at DEFAULT_THRESHOLD about 0.8 of them fall back on a shop it was not
# fitted on (bench/README.md has the leave-one-shop-out figures).
DEFAULT_DENSE_CALIBRATION = Calibration(
    (0.02, 0.5, 0.05, -0.19, 0.0, 0.0, 1.0, 0.05, 0.76, 1.09),
    (1.15, 3.89, 0.0, 0.0, 0.0, 0.0, 2.4, 1.91),
    -3.32,
)


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


def choose(
    lexical: LexicalScores,
    decision: FloatArray | None,
    dense: FloatArray | None = None,
) -> NDArray[np.intp]:
    """The candidate entries of one query (sorted positions): the best by the words
    (:data:`LEXICAL_CANDIDATES`, when they share any), by the classifier's
    ``decision`` and by the sentence vector's (approximate) per-entry cosine ``dense``."""
    mean = (lexical.best + lexical.centroid) / 2.0
    chosen = _top(mean, LEXICAL_CANDIDATES)
    chosen = np.sort(chosen[mean[chosen] > 0.0]).astype(np.intp)
    if decision is not None:
        chosen = np.union1d(chosen, _top(decision, CLASSIFIER_CANDIDATES)).astype(np.intp)
    if dense is not None:
        chosen = np.union1d(chosen, _top(dense, DENSE_CANDIDATES)).astype(np.intp)
    return chosen


def candidates(
    lexical: LexicalScores,
    decision: FloatArray | None,
    dense: DenseScores | None = None,
    answer_words: FloatArray | None = None,
    chosen: NDArray[np.intp] | None = None,
) -> Candidates:
    """The candidate entries of one query and their :data:`FEATURES`: ``lexical``
    scores, the classifier's ``decision``, the sentence vector's ``dense``
    cosines and the words' cosine to each answer (``answer_words``), per entry;
    ``chosen``: the candidates when already chosen (:func:`choose`)."""
    mean = (lexical.best + lexical.centroid) / 2.0
    if chosen is None:
        chosen = choose(lexical, decision, None if dense is None else dense.best)
    none = np.zeros(len(chosen))
    columns = [
        lexical.best[chosen],
        lexical.centroid[chosen],
        lexical.bm25[chosen],
        _gap(mean, chosen),
    ]
    if decision is None:
        columns += [none, none]
    else:
        columns += [decision[chosen], _gap(decision, chosen)]
    if dense is None:
        columns += [none, none, none]
    else:
        columns += [dense.best[chosen], _gap(dense.best, chosen), dense.answer[chosen]]
    columns.append(none if answer_words is None else answer_words[chosen])
    shape = (0, len(FEATURES))
    return Candidates(chosen, np.column_stack(columns) if len(chosen) else np.zeros(shape))
