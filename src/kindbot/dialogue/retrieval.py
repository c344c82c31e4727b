"""FAQ retrieval for Chinese and English with a calibrated confidence (pure).

:meth:`KnowledgeIndex.build` tokenises every phrasing of every entry (its
question and each ``similar`` phrasing; :mod:`kindbot.dialogue.tokens`: jieba
words, CJK characters and bigrams, English stems and character n-grams,
synonym groups — the built-in customer-service lexicon plus the tenant's),
then builds three rankers over them (:mod:`kindbot.dialogue.ranker`):

* TF-IDF cosine (best phrasing and entry centroid) and BM25
  (:mod:`kindbot.dialogue.lexical`);
* a linear classifier trained on the phrasings, one class per entry
  (:mod:`kindbot.dialogue.learned`), when the knowledge base fits its budget;

and fits the logistic fusion of their features on held-out phrasings of the
same knowledge base (:mod:`kindbot.dialogue.calibrate`). A match's ``score``
is that model's probability that the entry is a right answer, so one
threshold means the same thing for every knowledge base: below it the bot
says it is not sure.

Measurements (accuracy, fallback precision/recall, timings) are in
``bench/README.md``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.calibrate import (
    Corpus,
    FittedCalibration,
    default_calibration,
    fit_calibration,
)
from kindbot.dialogue.dense import (
    DenseIndex,
    DenseVectors,
    TextEncoder,
    encode_sentences,
    sentence_key,
)
from kindbot.dialogue.fitted import FittedModel, inputs_digest
from kindbot.dialogue.fusion import Calibration, Candidates
from kindbot.dialogue.learned import REGULARISATION_CHOICES
from kindbot.dialogue.ranker import Ranker
from kindbot.dialogue.tokens import SynonymTable, builtin_synonyms, tokenize

__all__ = [
    "DEFAULT_THRESHOLD",
    "KnowledgeIndex",
    "Match",
    "best_answer",
    "effective_threshold",
    "tokenize",
]

DEFAULT_THRESHOLD: float = 0.4
"""Below this confidence the bot says it is not sure rather than answer.

A score estimates P(the answer is right), fitted assuming one question in ten
is not covered. 0.4 keeps most of the accuracy on noisy shop questions (CIC)
while most out-of-scope questions (CLINC150) fall back; ``bench/README.md``
has the sweep. ``kindbot kb tune`` chooses a tenant's own from labelled queries.
"""


@dataclass(frozen=True, slots=True)
class Match:
    """One retrieved entry; ``score`` is the confidence in [0, 1] that it answers."""

    entry_id: str
    question: str
    answer: str
    score: float


SEARCHES_KEPT = 4096
"""Search results an index remembers (least recently used first out)."""


class KnowledgeIndex:
    """An immutable search index over knowledge entries; build with :meth:`build`.

    ``threshold`` is the tenant's tuned threshold (``kindbot kb tune``), if any.
    """

    __slots__ = (
        "_encoder",
        "_entries",
        "_found",
        "_phrasing_rows",
        "_ranker",
        "_synonyms",
        "calibration",
        "fitted",
        "provisional",
        "threshold",
    )

    def __init__(
        self,
        entries: tuple[KnowledgeEntry, ...],
        ranker: Ranker | None,
        synonyms: SynonymTable,
        calibration: Calibration | None,
        threshold: float | None,
        encoder: TextEncoder | None = None,
    ) -> None:
        """Internal: use :meth:`build`."""
        self._entries = entries
        self._ranker = ranker
        self._synonyms = synonyms
        self.calibration = calibration
        self.threshold = threshold
        self._encoder = encoder
        self.provisional = False
        """A quick build (``build(quick=True)``) that a full build would improve."""
        self.fitted: FittedModel | None = None
        """What a full build learned (or reused), to keep for other processes."""
        self._phrasing_rows = _phrasing_rows(entries) if encoder is not None else {}
        self._found = functools.lru_cache(maxsize=SEARCHES_KEPT)(self._search)

    @classmethod
    def build(
        cls,
        entries: Sequence[KnowledgeEntry],
        *,
        synonyms: Sequence[Sequence[str]] = (),
        threshold: float | None = None,
        learn: bool = True,
        encoder: TextEncoder | None = None,
        quick: bool = False,
        fitted: FittedModel | None = None,
    ) -> KnowledgeIndex:
        """Index ``entries`` with the tenant's synonym groups added to the built-in ones.

        ``learn=False`` leaves out the classifier. ``encoder``: the sentence
        vectors of phrasings, answers and queries (:mod:`kindbot.dialogue.dense`).
        ``quick``: no classifier and no fitted calibration (the built-in one), in
        a fraction of the time; :attr:`provisional` says whether a full build
        would differ. ``fitted``: what an earlier full build learned
        (:mod:`kindbot.dialogue.fitted`), used instead of fitting when it was
        fitted on the same inputs; :attr:`fitted` is what this build used.
        Raises ``ValueError`` on duplicate entry ids. Deterministic.
        """
        seen: set[str] = set()
        for entry in entries:
            if entry.id in seen:
                raise ValueError(f"duplicate knowledge entry id: {entry.id!r}")
            seen.add(entry.id)
        table = builtin_synonyms().merged(SynonymTable.from_groups(synonyms))
        texts: list[str] = []
        owners: list[int] = []
        for position, entry in enumerate(entries):
            texts.extend((entry.question, *entry.similar))
            owners.extend([position] * (1 + len(entry.similar)))
        phrasings = [tokenize(text, table) for text in texts]
        if not any(phrasings) and encoder is None:
            return cls(tuple(entries), None, table, None, threshold)
        answers = [tokenize(entry.answer, table) for entry in entries]
        corpus = Corpus(phrasings, owners, answers)
        dense = vectors = None
        if encoder is not None and entries:
            vectors = encode_sentences(encoder, [*texts, *(entry.answer for entry in entries)])
            said, answered = vectors[: len(texts)], vectors[len(texts) :]
            corpus = replace(corpus, dense=said, answer_vectors=answered)
            dense = DenseIndex.build(said, owners, answered)
        ranker = Ranker.build(phrasings, owners, learn=False, answers=answers, dense=dense)
        if quick:  # the model a full build falls back on when it cannot fit its own
            learnable = learn and ranker.can_learn()
            default = FittedCalibration(default_calibration(learnable, dense is not None))
            provisional = any(entry.similar for entry in entries)
            index = cls(tuple(entries), ranker, table, default.calibration, threshold, encoder)
            index.provisional = provisional
            return index
        learned = learn and ranker.can_learn()
        digest = inputs_digest(phrasings, owners, answers, vectors, learn=learned)
        if fitted is None or fitted.inputs != digest:
            fit = fit_calibration(corpus, learned=learned, choices=REGULARISATION_CHOICES)
            if learned:
                ranker = ranker.trained(owners, fit.c)
            fitted = FittedModel(digest, fit.calibration, fit.c, ranker.classifier)
        else:
            ranker = replace(ranker, classifier=fitted.classifier)
        index = cls(tuple(entries), ranker, table, fitted.calibration, threshold, encoder)
        index.fitted = fitted
        return index

    def __len__(self) -> int:
        """The number of entries."""
        return len(self._entries)

    @property
    def entry_ids(self) -> tuple[str, ...]:
        """The ids of the indexed entries, in the order they were given."""
        return tuple(entry.id for entry in self._entries)

    @property
    def learned(self) -> bool:
        """Whether the classifier is part of the ranking."""
        return self._ranker is not None and self._ranker.classifier is not None

    @property
    def dense(self) -> bool:
        """Whether queries are also encoded as sentence vectors (see :meth:`wants_sentence`)."""
        return self._encoder is not None

    def wants_sentence(self, query: str) -> bool:
        """Whether :meth:`search` would encode ``query``: the index is :attr:`dense`
        and the query is not one of its phrasings (whose vectors it holds). A
        caller that encodes queries in batches (``pipeline``) asks this first."""
        return self._encoder is not None and bool(query.strip()) and self._known(query) is None

    def _known(self, query: str) -> DenseVectors | None:
        """The stored vector of the phrasing ``query`` is (same :func:`sentence_key`)."""
        if self._ranker is None or self._ranker.dense is None:
            return None
        row = self._phrasing_rows.get(sentence_key(query))
        return None if row is None else self._ranker.dense.phrasings[row : row + 1]

    def sentence(self, query: str) -> DenseVectors | None:
        """``query``'s sentence vector (None without an encoder): a phrasing's is
        looked up, any other text is encoded (the encoder memoises)."""
        if self._encoder is None or not query.strip():
            return None
        known = self._known(query)
        return known if known is not None else encode_sentences(self._encoder, [query])

    def search(self, query: str, limit: int = 3) -> tuple[Match, ...]:
        """The best ``limit`` entries for ``query``, most confident first, one per entry.

        An empty index, an empty query or one with no known feature returns
        ``()``. Ties are broken by entry order. Results are remembered per
        index (customers ask the same questions): a repeated query costs a
        dictionary lookup.
        """
        return self._found(query, limit)

    def candidates(self, query: str) -> Candidates | None:
        """The candidate entries of ``query`` and their :data:`~kindbot.dialogue.fusion.FEATURES`
        (positions in :attr:`entry_ids`), before ranking; None when there are none."""
        if not query.strip() or self._ranker is None:
            return None
        found = self._ranker.candidates(tokenize(query, self._synonyms), self.sentence(query))
        return found if found is not None and len(found.entries) else None

    def _search(self, query: str, limit: int) -> tuple[Match, ...]:
        if limit <= 0 or self.calibration is None:
            return ()
        found = self.candidates(query)
        if found is None:
            return ()
        ranks = self.calibration.rank(found.features)
        confidence = self.calibration.probability(found.features)
        if self.dense:  # the reranker's weights were fitted for ordering; see fusion.py
            order = np.lexsort((found.entries, -confidence, -ranks))[:limit]
        else:
            order = np.lexsort((found.entries, -ranks, -confidence))[:limit]
        return tuple(self._match(int(found.entries[i]), float(confidence[i])) for i in order)

    def by_question(self, question: str) -> Match | None:
        """The entry whose question is ``question`` (whitespace-insensitive), score 1.0."""
        wanted = " ".join(question.split())
        for position, entry in enumerate(self._entries):
            if " ".join(entry.question.split()) == wanted:
                return self._match(position, 1.0)
        return None

    def _match(self, position: int, score: float) -> Match:
        entry = self._entries[position]
        return Match(entry.id, entry.question, entry.answer, score)


def _phrasing_rows(entries: Sequence[KnowledgeEntry]) -> dict[str, int]:
    """The row of every phrasing's :func:`sentence_key` (first one wins)."""
    rows: dict[str, int] = {}
    texts = (text for entry in entries for text in (entry.question, *entry.similar))
    for row, text in enumerate(texts):
        rows.setdefault(sentence_key(text), row)
    return rows


def effective_threshold(index: KnowledgeIndex, tenant_threshold: float | None) -> float:
    """The threshold to answer with: tuned (``kb tune``), else the tenant's
    configured one (bundle ``kb.threshold``), else :data:`DEFAULT_THRESHOLD`."""
    if index.threshold is not None:
        return index.threshold
    return tenant_threshold if tenant_threshold is not None else DEFAULT_THRESHOLD


def best_answer(
    index: KnowledgeIndex, query: str, threshold: float = DEFAULT_THRESHOLD
) -> Match | None:
    """The best match for ``query``, or ``None`` when its score is below ``threshold``."""
    found = index.search(query, limit=1)
    if not found or found[0].score < threshold:
        return None
    return found[0]
