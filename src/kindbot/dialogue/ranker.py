"""Lexical rankers plus the learned classifier over one set of phrasings (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kindbot.dialogue.fusion import Candidates, candidates
from kindbot.dialogue.learned import EntryClassifier
from kindbot.dialogue.lexical import LexicalIndex

__all__ = ["Ranker"]


@dataclass(frozen=True, slots=True)
class Ranker:
    """Scores entries for tokenised queries; build with :meth:`build`."""

    lexical: LexicalIndex
    classifier: EntryClassifier | None

    @classmethod
    def build(
        cls, phrasings: Sequence[Sequence[str]], owners: Sequence[int], *, learn: bool = True
    ) -> Ranker:
        """Rankers over tokenised ``phrasings`` owned by entries ``owners`` (see
        :meth:`LexicalIndex.build`); ``learn`` = also train the classifier if it fits."""
        lexical = LexicalIndex.build(phrasings, owners)
        classifier = None
        if learn:
            labels = np.asarray(owners, dtype=np.intp)
            classifier = EntryClassifier.train(lexical.rows(), labels, lexical.n_entries)
        return cls(lexical, classifier)

    def candidates(self, tokens: Sequence[str]) -> Candidates | None:
        """The candidate entries of a tokenised query; ``None`` when no token is known."""
        vector = self.lexical.vectorize(tokens)
        if vector is None:
            return None
        scores = self.lexical.scores(vector)
        decision = None
        if self.classifier is not None:
            decision = self.classifier.decision(vector.ids, vector.weights)
        return candidates(scores, decision)
