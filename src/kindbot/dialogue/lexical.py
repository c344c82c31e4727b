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
    least one row. ``tfidf_t`` (features x phrasings, CSR, float32) holds the
    L2-normalised TF-IDF rows; ``bm25_t`` the BM25 weights on the same
    structure (shared index arrays). ``centroid_norms[i]`` is the norm of the
    sum of entry ``i``'s rows, so its centroid cosine is the sum of its rows'
    cosines divided by it (no centroid matrix is stored).
    """

    vocabulary: dict[str, int]
    idf: FloatArray
    unseen_idf: float
    bm25_idf: FloatArray
    bm25_unseen_idf: float
    tfidf_t: Any
    bm25_t: Any
    centroid_norms: FloatArray
    starts: NDArray[np.intp]

    @classmethod
    def build(cls, phrasings: Sequence[Sequence[str]], owners: Sequence[int]) -> LexicalIndex:
        """Index tokenised ``phrasings``; ``owners[k]`` is the entry of phrasing ``k``.

        ``owners`` must be non-decreasing and cover ``0 .. n_entries - 1``
        without gaps (each entry has at least one phrasing).
        """
        vocabulary: dict[str, int] = {}
        lengths_in_tokens = [len(tokens) for tokens in phrasings]
        # int32 arrays, not lists of Python ints: at 100,000 entries a list of
        # feature ids alone held ~0.6 GB of int objects during the build.
        ids = np.fromiter(
            (vocabulary.setdefault(t, len(vocabulary)) for tokens in phrasings for t in tokens),
            dtype=np.int32,
            count=sum(lengths_in_tokens),
        )
        n_docs, n_features = len(phrasings), max(len(vocabulary), 1)
        docs = np.repeat(np.arange(n_docs, dtype=np.int32), lengths_in_tokens)
        counts = sparse.csr_matrix(
            (np.ones(len(ids), dtype=np.float32), (docs, ids)),
            shape=(n_docs, n_features),
        )
        del ids, docs
        counts.sum_duplicates()
        counts.sort_indices()
        # Per-value arithmetic in float32 with temporaries freed as soon as they are
        # used: the transient peak of a 100,000-entry build is several of these arrays.
        indices, indptr, tf_raw = counts.indices, counts.indptr, counts.data
        del counts
        df = np.bincount(indices, minlength=n_features).astype(np.float64)
        idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
        lengths = np.diff(indptr)
        row_of = np.repeat(np.arange(n_docs, dtype=np.int32), lengths)
        tfidf = np.log(tf_raw)
        tfidf += 1.0
        tfidf *= idf[indices].astype(np.float32)
        norms = np.sqrt(np.bincount(row_of, weights=tfidf * tfidf, minlength=n_docs))
        norms[norms == 0.0] = 1.0
        tfidf /= norms[row_of].astype(np.float32)
        bm25_idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
        average = max(float(lengths.mean()) if n_docs else 1.0, 1e-9)
        damping = (BM25_K1 * (1.0 - BM25_B + BM25_B * lengths / average)).astype(np.float32)
        bm25 = tf_raw * np.float32(BM25_K1 + 1.0)
        bm25 /= tf_raw + damping[row_of]
        bm25 *= bm25_idf[indices].astype(np.float32)
        del row_of, tf_raw
        owner = np.asarray(owners, dtype=np.intp)
        n_entries = int(owner[-1]) + 1 if len(owner) else 0
        membership = sparse.csr_matrix(
            (np.ones(n_docs, dtype=np.float32), (owner, np.arange(n_docs))),
            shape=(n_entries, n_docs),
        )
        sums = membership @ sparse.csr_matrix((tfidf, indices, indptr), shape=(n_docs, n_features))
        del membership
        sums.data **= 2
        centroid_norms = np.sqrt(np.asarray(sums.sum(axis=1), dtype=np.float64).ravel())
        del sums
        centroid_norms[centroid_norms == 0.0] = 1.0
        # Transpose once, carrying each value's position, then reorder both value arrays.
        position = sparse.csr_matrix(
            (np.arange(1, len(tfidf) + 1, dtype=np.int32), indices, indptr),
            shape=(n_docs, n_features),
        )
        transposed = sparse.csr_matrix(position.T)
        del position, indices, indptr
        order = transposed.data - 1
        indices = transposed.indices.astype(np.int32)
        indptr = transposed.indptr.astype(np.int64)
        del transposed
        shape = (n_features, n_docs)
        tfidf_t = sparse.csr_matrix((tfidf[order], indices, indptr), shape=shape, copy=False)
        del tfidf
        bm25_t = sparse.csr_matrix((bm25[order], indices, indptr), shape=shape, copy=False)
        del bm25, order
        return cls(
            vocabulary=vocabulary,
            idf=idf,
            unseen_idf=float(np.log(1.0 + n_docs) + 1.0),
            bm25_idf=bm25_idf,
            bm25_unseen_idf=float(np.log(1.0 + (n_docs + 0.5) / 0.5)),
            tfidf_t=tfidf_t,
            bm25_t=bm25_t,
            centroid_norms=centroid_norms,
            starts=np.searchsorted(owner, np.arange(n_entries)).astype(np.intp),
        )

    def rows(self) -> Any:
        """The (phrasings x features) L2-normalised TF-IDF matrix (CSR), for training."""
        return sparse.csr_matrix(self.tfidf_t.T, dtype=np.float64)

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

    def nothing(self) -> LexicalScores:
        """The scores of a query with no known feature (all zero)."""
        zeros = np.zeros(self.n_entries)
        return LexicalScores(zeros, zeros, zeros)

    def scores(self, query: QueryVector) -> LexicalScores:
        """Per-entry scores of ``query`` (see the module docstring)."""
        per_row = self.tfidf_t[query.ids].T @ query.weights
        best = np.maximum.reduceat(per_row, self.starts)
        centroid = np.add.reduceat(per_row, self.starts) / self.centroid_norms
        bm25_rows = np.asarray(self.bm25_t[query.ids].sum(axis=0)).ravel()
        bm25 = np.maximum.reduceat(bm25_rows, self.starts) / query.bm25_scale
        return LexicalScores(
            np.clip(best, 0.0, 1.0), np.clip(centroid, 0.0, 1.0), np.clip(bm25, 0.0, 1.0)
        )
