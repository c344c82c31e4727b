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
decision values are out of sample), and a logistic regression over the
candidates' features (:data:`kindbot.dialogue.fusion.FEATURES`) is fitted.
With fewer than :data:`MIN_POSITIVES` right candidates, or more than
:data:`MAX_ENTRIES` entries, the built-in default is kept. Deterministic (fixed
seed); at most :data:`MAX_QUERIES` queries.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from kindbot.dialogue.fusion import (
    DEFAULT_CALIBRATION,
    DEFAULT_LEXICAL_CALIBRATION,
    Calibration,
)
from kindbot.dialogue.ranker import Ranker

__all__ = ["MIN_POSITIVES", "default_calibration", "fit_calibration"]

MIN_POSITIVES = 40
MAX_QUERIES = 1500
MAX_ENTRIES = 3000
"""Above this many entries the default model is kept: the second build would
break the rebuild budget (``bench/README.md``), and such knowledge bases are
mostly one phrasing per entry, with little to hold out."""
HELD_OUT_SHARE = 0.2
ABSENT_SHARE = 0.15


def default_calibration(learned: bool) -> Calibration:
    """The built-in model, with or without the classifier's features."""
    return DEFAULT_CALIBRATION if learned else DEFAULT_LEXICAL_CALIBRATION


def fit_calibration(
    phrasings: Sequence[Sequence[str]], owners: Sequence[int], *, learned: bool
) -> Calibration:
    """The confidence model for the knowledge base of tokenised ``phrasings``
    (owned by entries ``owners``, non-decreasing); ``learned`` = the served
    ranker has a classifier."""
    rng = np.random.default_rng(0)
    owner = np.asarray(owners, dtype=np.intp)
    n_entries = int(owner[-1]) + 1 if len(owner) else 0
    if n_entries < 4 or n_entries > MAX_ENTRIES:
        return default_calibration(learned)
    absent = rng.random(n_entries) < ABSENT_SHARE
    held = np.zeros(len(owner), dtype=bool)
    starts = np.searchsorted(owner, np.arange(n_entries))
    ends = np.append(starts[1:], len(owner))
    for entry in np.flatnonzero(~absent):
        count = int(ends[entry] - starts[entry])
        if count >= 2:
            take = max(1, round(HELD_OUT_SHARE * count))
            chosen = rng.choice(count, size=min(take, count - 1), replace=False)
            held[starts[entry] + chosen] = True
    keep = ~held & ~absent[owner]
    kept_entries = np.flatnonzero(~absent)
    if len(kept_entries) < 2 or not held.any():
        return default_calibration(learned)
    renumber = np.full(n_entries, -1, dtype=np.intp)
    renumber[kept_entries] = np.arange(len(kept_entries))
    kept_rows = np.flatnonzero(keep)
    ranker = Ranker.build(
        [phrasings[int(i)] for i in kept_rows], renumber[owner[kept_rows]].tolist(), learn=learned
    )
    queries = _sample(rng, np.flatnonzero(held), np.flatnonzero(absent[owner]))
    features: list[NDArray[np.float64]] = []
    labels: list[NDArray[np.bool_]] = []
    for row in queries:
        found = ranker.candidates(phrasings[int(row)])
        if found is None or not len(found.entries):
            continue
        features.append(found.features)
        labels.append(found.entries == renumber[owner[row]])
    if not features or sum(int(y.sum()) for y in labels) < MIN_POSITIVES:
        return default_calibration(learned)
    return _logistic(np.vstack(features), np.concatenate(labels), len(features), learned)


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
    features: NDArray[np.float64], labels: NDArray[np.bool_], queries: int, learned: bool
) -> Calibration:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    columns = slice(None) if learned else slice(0, 4)
    model = LogisticRegression(C=1.0, max_iter=500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features[:, columns], labels)
    weights = [float(w) for w in model.coef_[0]]
    if not learned:
        weights += [0.0, 0.0]
    return Calibration(tuple(weights), float(model.intercept_[0]), queries)
