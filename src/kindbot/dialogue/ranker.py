"""The rankers over one set of phrasings: words, answers, classifier, sentence vectors (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from kindbot.dialogue.dense import DenseIndex, DenseVectors
from kindbot.dialogue.fusion import Candidates, candidates, choose
from kindbot.dialogue.learned import DEFAULT_C, EntryClassifier, fits
from kindbot.dialogue.lexical import LexicalIndex

__all__ = ["Ranker"]


@dataclass(frozen=True, slots=True)
class Ranker:
    """Scores entries for tokenised queries; build with :meth:`build`.

    ``answers``: the words of each entry's answer (one document per entry);
    ``dense``: the sentence vectors of phrasings and answers; either may be absent.
    """

    lexical: LexicalIndex
    classifier: EntryClassifier | None
    answers: LexicalIndex | None = None
    dense: DenseIndex | None = None

    @classmethod
    def build(
        cls,
        phrasings: Sequence[Sequence[str]],
        owners: Sequence[int],
        *,
        learn: bool = True,
        c: float = DEFAULT_C,
        answers: Sequence[Sequence[str]] | None = None,
        dense: DenseIndex | None = None,
    ) -> Ranker:
        """Rankers over tokenised ``phrasings`` owned by entries ``owners`` (see
        :meth:`LexicalIndex.build`), the entries' tokenised ``answers`` and their
        sentence vectors ``dense``; ``learn`` = also train the classifier (with
        regularisation ``c`` and the phrasings' vectors) if it
        :func:`~kindbot.dialogue.learned.fits`."""
        answer_index = None
        if answers is not None and any(answers):
            answer_index = LexicalIndex.build(list(answers), range(len(answers)))
        ranker = cls(LexicalIndex.build(phrasings, owners), None, answer_index, dense)
        return ranker.trained(owners, c) if learn else ranker

    def can_learn(self) -> bool:
        """Whether a classifier fits these phrasings (and their sentence vectors)."""
        features, rows = self.lexical.tfidf_t.shape
        dimensions = 0 if self.dense is None else self.dense.dimensions
        return fits(rows, features + dimensions, self.lexical.n_entries)

    def trained(self, owners: Sequence[int], c: float) -> Ranker:
        """The same rankers with a classifier trained with regularisation ``c``
        (none when it does not fit); ``owners`` as given to :meth:`build`."""
        labels = np.asarray(owners, dtype=np.intp)
        vectors = None if self.dense is None else self.dense.phrasings
        classifier = EntryClassifier.train(
            self.lexical.rows(), labels, self.lexical.n_entries, c, vectors
        )
        return replace(self, classifier=classifier)

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
        """The candidate entries of a tokenised query and its sentence vector
        (None: not encoded); ``None`` when there is neither a known token nor a vector."""
        vector = self.lexical.vectorize(tokens)
        approximate = None
        if self.dense is not None and sentence is not None:
            approximate = self.dense.approximate(sentence)
        if vector is None and approximate is None:
            return None
        if vector is None:
            lexical = self.lexical.nothing()
            decision = None
        else:
            lexical = self.lexical.scores(vector)
            decision = None
            if self.classifier is not None:
                decision = self.classifier.decision(vector.ids, vector.weights, sentence)
        answer_words = None
        if self.answers is not None:
            answer_vector = self.answers.vectorize(tokens)
            if answer_vector is not None:
                answer_words = self.answers.scores(answer_vector).best
        chosen = choose(lexical, decision, approximate)
        dense = None
        if self.dense is not None and sentence is not None and approximate is not None:
            dense = self.dense.scores(sentence, chosen, approximate)
        return candidates(lexical, decision, dense, answer_words, chosen)
