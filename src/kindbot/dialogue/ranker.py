"""Lexical rankers plus the learned classifier over one set of phrasings (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kindbot.dialogue.dense import DenseVectors
from kindbot.dialogue.fusion import Candidates, candidates
from kindbot.dialogue.learned import DEFAULT_C, EntryClassifier, fits
from kindbot.dialogue.lexical import LexicalIndex

__all__ = ["Ranker"]


@dataclass(frozen=True, slots=True)
class Ranker:
    """Scores entries for tokenised queries; build with :meth:`build`."""

    lexical: LexicalIndex
    classifier: EntryClassifier | None

    @classmethod
    def build(
        cls,
        phrasings: Sequence[Sequence[str]],
        owners: Sequence[int],
        *,
        learn: bool = True,
        c: float = DEFAULT_C,
        dense: DenseVectors | None = None,
    ) -> Ranker:
        """Rankers over tokenised ``phrasings`` owned by entries ``owners`` (see
        :meth:`LexicalIndex.build`); ``learn`` = also train the classifier (with
        regularisation ``c`` and the phrasings' sentence vectors ``dense``, if
        any) if it :func:`~kindbot.dialogue.learned.fits`."""
        ranker = cls(LexicalIndex.build(phrasings, owners), None)
        return ranker.trained(owners, c, dense) if learn else ranker

    def can_learn(self, dimensions: int = 0) -> bool:
        """Whether a classifier fits these phrasings (plus ``dimensions`` of sentence
        vector; see :meth:`trained`)."""
        features, rows = self.lexical.tfidf_t.shape
        return fits(rows, features + dimensions, self.lexical.n_entries)

    def trained(self, owners: Sequence[int], c: float, dense: DenseVectors | None = None) -> Ranker:
        """The same lexical rankers with a classifier trained with regularisation ``c``
        (none when it does not fit); ``owners`` as given to :meth:`build`, ``dense``
        the phrasings' sentence vectors (rows in the same order) or None."""
        labels = np.asarray(owners, dtype=np.intp)
        classifier = EntryClassifier.train(
            self.lexical.rows(), labels, self.lexical.n_entries, c, dense
        )
        return Ranker(self.lexical, classifier)

    def top_entry(self, tokens: Sequence[str], sentence: DenseVectors | None = None) -> int | None:
        """The entry the classifier ranks first for a tokenised query (and its
        sentence vector); None: no classifier, or no known token."""
        vector = self.lexical.vectorize(tokens)
        if vector is None or self.classifier is None:
            return None
        return int(np.argmax(self.classifier.decision(vector.ids, vector.weights, sentence)))

    def candidates(
        self, tokens: Sequence[str], sentence: DenseVectors | None = None
    ) -> Candidates | None:
        """The candidate entries of a tokenised query (``sentence``: its sentence
        vector, for a classifier trained with them); ``None`` when no token is known."""
        vector = self.lexical.vectorize(tokens)
        if vector is None:
            return None
        scores = self.lexical.scores(vector)
        decision = None
        if self.classifier is not None:
            decision = self.classifier.decision(vector.ids, vector.weights, sentence)
        return candidates(scores, decision)
