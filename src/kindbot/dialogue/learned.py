"""The learned ranker: a linear classifier with one class per knowledge entry.

Trained on the tenant's own phrasings (every phrasing is a labelled example
of its entry) over the same TF-IDF features as the lexical ranker; a linear
SVM (scikit-learn's ``LinearSVC``, one-vs-rest) learns which features tell
the entries apart, which plain similarity cannot: on noisy shop questions it
is the strongest single signal (``bench/README.md``).

It is trained only when there is something to learn (at least two entries,
:data:`MIN_ROWS_PER_ENTRY` phrasings per entry on average) and it fits the
budget (:data:`MAX_WEIGHTS` weights, :data:`MAX_TRAINING_ROWS` phrasings):
the weights are a dense (features x entries) matrix, and training time
grows with entries x phrasings. Larger knowledge bases rely on the lexical
rankers alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from kindbot.dialogue.dense import DenseVectors, scaled

__all__ = [
    "DEFAULT_C",
    "MAX_WEIGHTS",
    "MODEL_WARNINGS",
    "REGULARISATION_CHOICES",
    "EntryClassifier",
    "fits",
]

MAX_WEIGHTS = 12_000_000
"""Most weights (features x entries) a classifier may have (float32: 48 MB)."""
MAX_TRAINING_ROWS = 40_000
MIN_ROWS_PER_ENTRY = 2
"""With fewer phrasings than this per entry on average there is nothing to learn
beyond what the lexical rankers see (one example per class)."""
DEFAULT_C = 0.1
"""The SVM's C when there is nothing to choose it on: low C (strong regularisation)
suits noisy FAQ phrasings (CIC: 0.66 vs 0.64 at C=1)."""
REGULARISATION_CHOICES = (0.1, 1.0)
"""The Cs a knowledge base's build tries on its held-out phrasings
(:mod:`kindbot.dialogue.calibrate`): clean, many-phrasing knowledge bases
prefer the weaker regularisation (CLINC150: 0.918 vs 0.897 at C=0.1)."""


MODEL_WARNINGS = (
    ("", "sklearn.exceptions.ConvergenceWarning"),
    ("The number of unique classes", "UserWarning"),
)
"""(message, category) of the warnings a fit may raise that say nothing to an
operator: liblinear/lbfgs stopping at their iteration cap (the model is still
used as it is), a class with one phrasing. The process filters them once at
start-up (``bootstrap.quiet_fitting_warnings``); fits run in worker threads,
where ``warnings.catch_warnings`` would race with other threads' filters."""


def fits(n_rows: int, n_features: int, n_entries: int) -> bool:
    """Whether a classifier is trained for ``n_rows`` phrasings of ``n_entries``
    entries over ``n_features`` features (sentence-vector dimensions included:
    something to learn, within budget)."""
    return (
        n_entries >= 2
        and n_rows >= MIN_ROWS_PER_ENTRY * n_entries
        and n_rows <= MAX_TRAINING_ROWS
        and n_entries * n_features <= MAX_WEIGHTS
    )


@dataclass(frozen=True, slots=True)
class EntryClassifier:
    """Decision values of a trained one-vs-rest linear classifier, per entry.

    ``weights_t`` is (features x entries), float32; ``bias`` per entry;
    ``dense_t`` (dimensions x entries) weighs the query's sentence vector when
    the classifier was trained with one (:mod:`kindbot.dialogue.dense`).
    """

    weights_t: NDArray[np.float32]
    bias: NDArray[np.float32]
    dense_t: NDArray[np.float32] | None = None

    @classmethod
    def train(
        cls,
        rows: Any,
        owners: NDArray[np.intp],
        n_entries: int,
        c: float = DEFAULT_C,
        dense: DenseVectors | None = None,
    ) -> EntryClassifier | None:
        """Train on ``rows`` (phrasings x features, sparse) labelled with ``owners``,
        with regularisation ``c``; ``dense``: the phrasings' sentence vectors,
        appended to their rows (scaled by :data:`~kindbot.dialogue.dense.DENSE_SCALE`).

        Returns ``None`` unless :func:`fits`. Deterministic (fixed random state).
        """
        n_rows, n_features = rows.shape
        n_dense = 0 if dense is None else int(dense.shape[1])
        if not fits(n_rows, n_features + n_dense, n_entries):
            return None
        if dense is not None:
            rows = sparse.hstack([rows, sparse.csr_matrix(scaled(dense))], format="csr")
        from sklearn.svm import LinearSVC

        model = LinearSVC(C=c, random_state=0)
        model.fit(rows, owners)  # its warnings: see MODEL_WARNINGS
        coef = np.asarray(model.coef_, dtype=np.float32)
        intercept = np.asarray(model.intercept_, dtype=np.float32)
        if n_entries == 2:  # binary: one row scores entry 1 against entry 0
            coef = np.vstack([-coef, coef])
            intercept = np.concatenate([-intercept, intercept])
        words = np.ascontiguousarray(coef[:, :n_features].T)
        meaning = np.ascontiguousarray(coef[:, n_features:].T) if n_dense else None
        return cls(words, intercept, meaning)

    def decision(
        self,
        ids: NDArray[np.intp],
        weights: NDArray[np.float64],
        vector: DenseVectors | None = None,
    ) -> NDArray[np.float64]:
        """Decision value of every entry for a query with features ``ids`` and
        ``weights`` and, for a classifier trained with sentence vectors, the
        query's ``vector`` (one row; None counts as a zero vector)."""
        values: NDArray[np.float64] = (weights @ self.weights_t[ids]).astype(np.float64)
        if self.dense_t is not None and vector is not None:
            values += (scaled(vector) @ self.dense_t).astype(np.float64).reshape(-1)
        return values + self.bias
