"""Fitting the confidence model on a knowledge base's own phrasings (pure).

Nobody labels queries for a new knowledge base, but its phrasings are
labelled already: each one is a way customers ask for its entry. So the
build holds some of them out and asks them as queries:

* about 20 % of the phrasings of entries with two or more phrasings (at
  least one phrasing of every entry stays): their candidates are labelled
  right (their own entry) or wrong (any other);
* every phrasing of about 15 % of the entries, removed from the knowledge
  base altogether: near-miss questions the knowledge base does not cover,
  whose candidates are all wrong, so the model learns what "not covered"
  looks like.

The rankers are rebuilt on what remains (classifier included, so its
decision values are out of sample), and the fusion is fitted on the
candidates' features (:func:`fit_fusion`). With a classifier, the same
held-out phrasings choose its regularisation: each C of
:data:`~kindbot.dialogue.learned.REGULARISATION_CHOICES` is trained on what
remains and the one whose classifier ranks the held-out phrasings' own
entries first most often is kept (ties: the stronger regularisation).
With fewer than :data:`MIN_POSITIVES` right candidates, or more than
:data:`MAX_ENTRIES` entries, the built-in default is kept. Deterministic (fixed
seed); at most :data:`MAX_QUERIES` queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from kindbot.dialogue.dense import DenseIndex, DenseVectors
from kindbot.dialogue.fusion import (
    CLASSIFIER_COLUMNS,
    CONFIDENCE_FEATURES,
    DEFAULT_CALIBRATION,
    DEFAULT_DENSE_CALIBRATION,
    DEFAULT_LEXICAL_CALIBRATION,
    DENSE_COLUMNS,
    FEATURES,
    Calibration,
    confidence_inputs,
)
from kindbot.dialogue.learned import DEFAULT_C
from kindbot.dialogue.ranker import Ranker

__all__ = [
    "MIN_POSITIVES",
    "Corpus",
    "FittedCalibration",
    "default_calibration",
    "fit_calibration",
    "fit_fusion",
]

MIN_POSITIVES = 40
MAX_QUERIES = 1500
MAX_ENTRIES = 3000
"""Above this many entries the default model is kept: the second build would
break the rebuild budget (``bench/README.md``), and such knowledge bases are
mostly one phrasing per entry, with little to hold out."""
LEARNED_CONFIDENCE = (2, 5)
"""The confidence inputs (of :data:`CONFIDENCE_FEATURES`) fitted when there is a
classifier: the best phrasing's cosine and the classifier's decision. With
all six, the fit leaned on near-miss cues of the held-out "not covered"
questions and separated questions far from every entry worse (CLINC150:
in-scope top-1 at out-of-scope recall 0.85, 0.876 → 0.906; at threshold 0.4,
BANKING77 0.884 → 0.892 and CIC 0.637 → 0.646; CIC always answering 0.659 → 0.650)."""
LEXICAL_CONFIDENCE = (0, 1, 2, 3, 4)
"""Without a classifier: the rank score, its margin and the three lexical scores."""
DENSE_CONFIDENCE = (6, 7)
"""Added with sentence vectors: the closest phrasing's cosine and its gap to the
best other entry's."""
HELD_OUT_SHARE = 0.2
ABSENT_SHARE = 0.15
ABSENT_WEIGHT = 0.1
"""The share of "not covered" questions the confidence model assumes."""


def default_calibration(learned: bool, dense: bool = False) -> Calibration:
    """The built-in model: with sentence vectors, else with or without the classifier."""
    if dense:
        return DEFAULT_DENSE_CALIBRATION
    return DEFAULT_CALIBRATION if learned else DEFAULT_LEXICAL_CALIBRATION


@dataclass(frozen=True, slots=True)
class FittedCalibration:
    """What a build learns from its held-out phrasings: the fusion and the
    classifier's regularisation ``c`` (:data:`DEFAULT_C` when nothing was chosen)."""

    calibration: Calibration
    c: float = DEFAULT_C


@dataclass(frozen=True, slots=True)
class Corpus:
    """A knowledge base as the rankers see it: tokenised ``phrasings`` owned by
    entries ``owners`` (non-decreasing), each entry's tokenised ``answers``, and
    the sentence vectors of the phrasings (``dense``, a row each) and of the
    answers (``answer_vectors``, a row per entry) when there is an encoder."""

    phrasings: Sequence[Sequence[str]]
    owners: Sequence[int]
    answers: Sequence[Sequence[str]] | None = None
    dense: DenseVectors | None = None
    answer_vectors: DenseVectors | None = None

    def ranker(self, rows: NDArray[np.intp], entries: NDArray[np.intp]) -> Ranker:
        """Untrained rankers over phrasing ``rows`` of ``entries`` (renumbered 0..)."""
        renumber = np.full(int(entries.max()) + 1 if len(entries) else 0, -1, dtype=np.intp)
        renumber[entries] = np.arange(len(entries))
        owners = renumber[np.asarray(self.owners, dtype=np.intp)[rows]].tolist()
        answers = None if self.answers is None else [self.answers[int(e)] for e in entries]
        dense = None
        if self.dense is not None and self.answer_vectors is not None:
            dense = DenseIndex.build(self.dense[rows], owners, self.answer_vectors[entries])
        return Ranker.build(
            [self.phrasings[int(i)] for i in rows],
            owners,
            learn=False,
            answers=answers,
            dense=dense,
        )


def fit_calibration(
    corpus: Corpus,
    *,
    learned: bool,
    choices: Sequence[float] = (DEFAULT_C,),
) -> FittedCalibration:
    """The confidence model for the knowledge base ``corpus``; ``learned`` = the
    served ranker has a classifier, whose regularisation is chosen among ``choices``."""
    rng = np.random.default_rng(0)
    dense = corpus.dense is not None
    owner = np.asarray(corpus.owners, dtype=np.intp)
    n_entries = int(owner[-1]) + 1 if len(owner) else 0
    if n_entries < 4 or n_entries > MAX_ENTRIES:
        return FittedCalibration(default_calibration(learned, dense))
    absent = rng.random(n_entries) < ABSENT_SHARE
    held = _held_out_rows(rng, owner, ~absent)
    kept_entries = np.flatnonzero(~absent)
    if len(kept_entries) < 2 or not held.any():
        return FittedCalibration(default_calibration(learned, dense))
    renumber = np.full(n_entries, -1, dtype=np.intp)
    renumber[kept_entries] = np.arange(len(kept_entries))
    kept_rows = np.flatnonzero(~held & ~absent[owner])
    kept_owners = renumber[owner[kept_rows]].tolist()
    queries = _sample(rng, np.flatnonzero(held), np.flatnonzero(absent[owner]))
    asked = [
        _Asked(corpus.phrasings[int(row)], int(renumber[owner[row]]), _row(corpus.dense, int(row)))
        for row in queries
    ]
    ranker = corpus.ranker(kept_rows, kept_entries)
    ranker, c = _best_classifier(ranker, kept_owners, asked, choices if learned else ())
    features: list[NDArray[np.float64]] = []
    labels: list[NDArray[np.bool_]] = []
    for tokens, entry, sentence in asked:
        found = ranker.candidates(tokens, sentence)
        if found is None or not len(found.entries):
            continue
        features.append(found.features)
        labels.append(found.entries == entry)
    if not features or sum(int(y.sum()) for y in labels) < MIN_POSITIVES:
        return FittedCalibration(default_calibration(learned, dense), c)
    return FittedCalibration(fit_fusion(features, labels, learned=learned, dense=dense), c)


class _Asked(NamedTuple):
    """A held-out phrasing asked as a query: its tokens, its entry (-1: absent
    from the knowledge base) and its sentence vector (one row), if any."""

    tokens: Sequence[str]
    entry: int
    sentence: DenseVectors | None


def _row(dense: DenseVectors | None, row: int) -> DenseVectors | None:
    return None if dense is None else dense[row : row + 1]


def _best_classifier(
    ranker: Ranker,
    owners: Sequence[int],
    asked: Sequence[_Asked],
    choices: Sequence[float],
) -> tuple[Ranker, float]:
    """``ranker`` with the classifier (among ``choices`` of C; trained on its
    phrasings, owned by ``owners``) that ranks the asked phrasings' own entries
    (absent ones not counted) first most often; the first choice wins ties.
    No choices: ``ranker`` as it is, with :data:`DEFAULT_C`."""
    best: tuple[int, Ranker, float] | None = None
    for c in choices:
        trained = ranker.trained(owners, c)
        if trained.classifier is None:
            return ranker, DEFAULT_C
        hits = sum(
            trained.top_entry(query.tokens, query.sentence) == query.entry
            for query in asked
            if query.entry >= 0
        )
        if best is None or hits > best[0]:
            best = (hits, trained, c)
    return (ranker, DEFAULT_C) if best is None else (best[1], best[2])


def _held_out_rows(
    rng: np.random.Generator, owner: NDArray[np.intp], present: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """About :data:`HELD_OUT_SHARE` of the phrasings of each present entry with two
    or more, never all of them (a mask over phrasing rows)."""
    held = np.zeros(len(owner), dtype=bool)
    starts = np.searchsorted(owner, np.arange(len(present)))
    ends = np.append(starts[1:], len(owner))
    for entry in np.flatnonzero(present):
        count = int(ends[entry] - starts[entry])
        if count >= 2:
            take = min(max(1, round(HELD_OUT_SHARE * count)), count - 1)
            held[starts[entry] + rng.choice(count, size=take, replace=False)] = True
    return held


def fit_fusion(
    features: Sequence[NDArray[np.float64]],
    labels: Sequence[NDArray[np.bool_]],
    *,
    learned: bool,
    dense: bool = False,
) -> Calibration:
    """Fit the reranker and the confidence model on held-out queries.

    ``features[q]`` are query ``q``'s candidate rows, ``labels[q]`` which of
    them are right (none: the query's entry was absent). The reranker is a
    logistic regression over all candidates of queries that have a right
    one; the confidence model one over each query's top-ranked candidate
    (right or not), absent queries weighted to :data:`ABSENT_WEIGHT` of the
    total, so the prior of "not covered" does not depend on how many entries
    were held out.
    """
    columns = [
        column
        for column in range(len(FEATURES))
        if (learned or column not in CLASSIFIER_COLUMNS) and (dense or column not in DENSE_COLUMNS)
    ]
    covered = [i for i, y in enumerate(labels) if y.any()]
    rank_model = _logistic(
        np.vstack([features[i][:, columns] for i in covered]),
        np.concatenate([labels[i] for i in covered]),
        None,
    )
    rank_weights = np.zeros(len(FEATURES))
    rank_weights[columns] = rank_model.coef_[0]
    tops: list[NDArray[np.float64]] = []
    right: list[bool] = []
    for rows, y in zip(features, labels, strict=True):
        ranks = rows @ rank_weights
        best = int(np.argmax(ranks))
        tops.append(confidence_inputs(rows, ranks)[best])
        right.append(bool(y[best]))
    is_absent = np.asarray([not y.any() for y in labels])
    weights = np.ones(len(labels))
    if is_absent.any() and not is_absent.all():
        weights[is_absent] = (
            ABSENT_WEIGHT / (1.0 - ABSENT_WEIGHT) * (~is_absent).sum() / is_absent.sum()
        )
    confidence_columns = list(LEARNED_CONFIDENCE if learned else LEXICAL_CONFIDENCE)
    if dense:
        confidence_columns += list(DENSE_CONFIDENCE)
    inputs = np.vstack(tops)
    confidence_model = _logistic(inputs[:, confidence_columns], np.asarray(right), weights)
    confidence_weights = np.zeros(len(CONFIDENCE_FEATURES))
    confidence_weights[confidence_columns] = confidence_model.coef_[0]
    return Calibration(
        tuple(float(w) for w in rank_weights),
        tuple(float(w) for w in confidence_weights),
        float(confidence_model.intercept_[0]),
        len(labels),
    )


def _sample(
    rng: np.random.Generator, held: NDArray[np.intp], absent: NDArray[np.intp]
) -> NDArray[np.intp]:
    """Held-out and absent query rows, at most :data:`MAX_QUERIES` (absent ≤ a third)."""
    absent_cap = MAX_QUERIES // 3
    if len(absent) > absent_cap:
        absent = rng.choice(absent, size=absent_cap, replace=False)
    held_cap = MAX_QUERIES - len(absent)
    if len(held) > held_cap:
        held = rng.choice(held, size=held_cap, replace=False)
    return np.sort(np.concatenate([held, absent]).astype(np.intp))


def _logistic(
    inputs: NDArray[np.float64], labels: NDArray[np.bool_], weights: NDArray[np.float64] | None
) -> Any:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=500)
    model.fit(inputs, labels, sample_weight=weights)  # warnings: see learned.MODEL_WARNINGS
    return model
