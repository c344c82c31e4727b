"""The lexical rankers of the knowledge base: TF-IDF cosine and BM25 (pure).

Both work on the features of :mod:`kindbot.dialogue.tokens`. Every phrasing
of every entry (its question and each ``similar`` phrasing) is one document;
the phrasings of an entry are consecutive rows. For a query,
:meth:`LexicalIndex.scores` returns, per entry:

* ``best``: the best TF-IDF cosine over the entry's phrasings;
* ``centroid``: the cosine with the entry's centroid (normalised sum of its
  phrasings), so one lucky phrasing alone does not make a confident answer;
* ``bm25``: the best BM25 score over its phrasings divided by the score a
  document containing every query feature once would get (so about [0, 1]).

Query features that no phrasing has still count (weighted with the IDF of an
unseen feature) in the query's norm and in the BM25 denominator: the
unmatched part of a query lowers its scores instead of vanishing.

Matrices are stored transposed (features x documents, CSR), so scoring a
query reads only the rows of its own features.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

__all__ = ["LexicalIndex", "LexicalScores", "QueryVector"]

BM25_K1 = 1.2
BM25_B = 0.75

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class QueryVector:
    """A query's known features (ids), their TF-IDF weights divided by the norm
    of all its features, and the BM25 denominator."""

    ids: NDArray[np.intp]
    weights: FloatArray
    bm25_scale: float


@dataclass(frozen=True, slots=True)
class LexicalScores:
    """Per-entry lexical scores for one query, in entry order."""

    best: FloatArray
    centroid: FloatArray
    bm25: FloatArray


@dataclass(frozen=True, slots=True)
class LexicalIndex:
    """TF-IDF and BM25 over phrasings; build with :meth:`build`.

    ``starts[i]`` is the first phrasing row of entry ``i``; every entry has at
    least one row. ``rows`` is the (phrasings x features) L2-normalised TF-IDF
    matrix (the classifier trains on it).
    """

    vocabulary: dict[str, int]
    idf: FloatArray
    unseen_idf: float
    bm25_idf: FloatArray
    bm25_unseen_idf: float
    rows: Any
    tfidf_t: Any
    centroid_t: Any
    bm25_t: Any
    starts: NDArray[np.intp]

    @classmethod
    def build(cls, phrasings: Sequence[Sequence[str]], owners: Sequence[int]) -> LexicalIndex:
        """Index tokenised ``phrasings``; ``owners[k]`` is the entry of phrasing ``k``.

        ``owners`` must be non-decreasing and cover ``0 .. n_entries - 1``
        without gaps (each entry has at least one phrasing).
        """
        vocabulary: dict[str, int] = {}
        ids = [vocabulary.setdefault(t, len(vocabulary)) for tokens in phrasings for t in tokens]
        n_docs, n_features = len(phrasings), max(len(vocabulary), 1)
        docs = np.repeat(np.arange(n_docs), [len(tokens) for tokens in phrasings])
        counts_m = sparse.csr_matrix(
            (np.ones(len(ids)), (docs, np.asarray(ids, dtype=np.intp))),
            shape=(n_docs, n_features),
        )
        counts_m.sum_duplicates()
        cols = counts_m.indices
        df = np.bincount(cols, minlength=n_features).astype(np.float64)
        idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
        unseen_idf = float(np.log(1.0 + n_docs) + 1.0)
        tf = counts_m.copy()
        tf.data = 1.0 + np.log(tf.data)
        rows = _l2_rows(tf @ sparse.diags(idf))
        owner = np.asarray(owners, dtype=np.intp)
        n_entries = int(owner[-1]) + 1 if len(owner) else 0
        starts = np.searchsorted(owner, np.arange(n_entries)).astype(np.intp)
        membership = sparse.csr_matrix(
            (np.ones(n_docs), (owner, np.arange(n_docs))), shape=(n_entries, n_docs)
        )
        centroids = _l2_rows(membership @ rows)
        bm25_idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
        bm25_unseen = float(np.log(1.0 + (n_docs + 0.5) / 0.5))
        lengths = np.diff(counts_m.indptr).astype(np.float64)
        average = float(lengths.mean()) if n_docs else 1.0
        saturated = counts_m.copy()
        per_row = np.repeat(
            BM25_K1 * (1.0 - BM25_B + BM25_B * lengths / max(average, 1e-9)),
            np.diff(counts_m.indptr),
        )
        saturated.data = counts_m.data * (BM25_K1 + 1.0) / (counts_m.data + per_row)
        bm25 = saturated @ sparse.diags(bm25_idf)
        return cls(
            vocabulary=vocabulary,
            idf=idf,
            unseen_idf=unseen_idf,
            bm25_idf=bm25_idf,
            bm25_unseen_idf=bm25_unseen,
            rows=rows,
            tfidf_t=sparse.csr_matrix(rows.T),
            centroid_t=sparse.csr_matrix(centroids.T),
            bm25_t=sparse.csr_matrix(bm25.T),
            starts=starts,
        )

    @property
    def n_entries(self) -> int:
        """The number of entries."""
        return len(self.starts)

    def vectorize(self, tokens: Sequence[str]) -> QueryVector | None:
        """The query vector of ``tokens``; ``None`` when no token is known."""
        counts = Counter(tokens)
        ids: list[int] = []
        weights: list[float] = []
        unseen_sq = 0.0
        bm25_scale = 0.0
        for token, count in counts.items():
            tf = 1.0 + float(np.log(count))
            position = self.vocabulary.get(token)
            if position is None:
                unseen_sq += (tf * self.unseen_idf) ** 2
                bm25_scale += self.bm25_unseen_idf
                continue
            ids.append(position)
            weights.append(tf * float(self.idf[position]))
            bm25_scale += float(self.bm25_idf[position])
        if not ids:
            return None
        known = np.asarray(weights)
        norm = float(np.sqrt(known @ known + unseen_sq))
        return QueryVector(
            np.asarray(ids, dtype=np.intp), known / norm, bm25_scale * (BM25_K1 + 1.0)
        )

    def scores(self, query: QueryVector) -> LexicalScores:
        """Per-entry scores of ``query`` (see the module docstring)."""
        per_row = self.tfidf_t[query.ids].T @ query.weights
        best = np.maximum.reduceat(per_row, self.starts)
        centroid = self.centroid_t[query.ids].T @ query.weights
        bm25_rows = np.asarray(self.bm25_t[query.ids].sum(axis=0)).ravel()
        bm25 = np.maximum.reduceat(bm25_rows, self.starts) / query.bm25_scale
        return LexicalScores(
            np.clip(best, 0.0, 1.0), np.clip(centroid, 0.0, 1.0), np.clip(bm25, 0.0, 1.0)
        )


def _l2_rows(matrix: Any) -> Any:
    """``matrix`` (sparse) with every non-zero row scaled to unit L2 norm (CSR)."""
    matrix = sparse.csr_matrix(matrix)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0.0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)
