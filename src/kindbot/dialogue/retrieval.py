"""FAQ retrieval for Chinese and English: TF-IDF over mixed-script tokens.

Every phrasing of every entry (its question and each ``similar`` phrasing) is a
row of an L2-normalised TF-IDF matrix. A query is normalised and vectorised the
same way; its cosine similarity with each row is one sparse matrix-vector
product. An entry's score is the mean of two cosines, both in [0, 1]:

* the best similarity over its phrasings, and
* the similarity to the entry's centroid (the normalised sum of its phrasings),

so one lucky phrasing alone does not make a confident answer, and an entry whose
phrasings agree with the query as a whole ranks higher. For an entry with one
phrasing both are the same number; a query equal (after normalisation) to any
phrasing of an entry scores at least 0.5 for it.

Query features that no phrasing has still count in the query's norm (weighted
with the IDF of an unseen feature), so the unmatched part of a query lowers its
scores instead of vanishing: "今天天气怎么样" does not match "怎么退货" just
because 怎么 is its only known word. This scales all of a query's scores alike,
so it changes which queries are answered, never the ranking.

``bench/README.md`` ("Knowledge base v0 quality") has the measurements: on
CLINC150 the centroid term lifts top-1 accuracy when always answering from 0.78
to 0.86.

Tokens (see :func:`tokenize`): in runs of CJK characters, every character and
every pair of adjacent characters (Chinese has no spaces, and bigrams carry
most of the meaning: 退货, 运费, 发票); in runs of letters and digits, the word
itself and its character 3- to 5-grams with word boundaries marked, so that a
misspelt word still shares most of its n-grams with the right one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from kindbot.dialogue.normalize import normalize_text
from kindbot.records import KnowledgeEntry

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = ["DEFAULT_THRESHOLD", "KnowledgeIndex", "Match", "best_answer", "tokenize"]

DEFAULT_THRESHOLD: float = 0.4
"""Below this score the bot should say it is not sure rather than answer.

Chosen precision-leaning from the sweep in ``bench/README.md`` (section
"Knowledge base v0 quality"); a tenant may override it.
"""

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_RUNS = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+)")
_NGRAM_SIZES = (3, 4, 5)


def tokenize(text: str) -> list[str]:
    """Normalise ``text`` (:func:`normalize_text`) and split it into features.

    CJK runs give ``c:`` unigrams and ``b:`` bigrams; letter/digit runs give a
    ``w:`` word token and ``n:`` character n-grams of the word padded with
    spaces (3 to 5 characters). Punctuation and symbols are dropped.
    """
    tokens: list[str] = []
    for run in _RUNS.finditer(normalize_text(text)):
        chunk = run.group()
        if run.lastgroup == "cjk":
            tokens.extend(f"c:{ch}" for ch in chunk)
            tokens.extend(f"b:{chunk[i : i + 2]}" for i in range(len(chunk) - 1))
            continue
        tokens.append(f"w:{chunk}")
        padded = f" {chunk} "
        for size in _NGRAM_SIZES:
            tokens.extend(f"n:{padded[i : i + size]}" for i in range(len(padded) - size + 1))
    return tokens


@dataclass(frozen=True, slots=True)
class Match:
    """One retrieved entry; ``score`` is in [0, 1], higher is better."""

    entry_id: str
    question: str
    answer: str
    score: float


class KnowledgeIndex:
    """An immutable search index over knowledge entries; build with :meth:`build`."""

    __slots__ = ("_centroids", "_entries", "_phrasings", "_starts", "_unseen_idf", "_vectorizer")

    def __init__(
        self,
        entries: tuple[KnowledgeEntry, ...],
        vectorizer: TfidfVectorizer | None,
        phrasings: Any,
        starts: NDArray[np.intp],
    ) -> None:
        """Internal: use :meth:`build`.

        ``phrasings`` is the sparse (phrasings x features) TF-IDF matrix whose rows
        for entry ``i`` start at ``starts[i]``.
        """
        self._entries = entries
        self._vectorizer = vectorizer
        self._phrasings = phrasings
        self._starts = starts
        self._centroids: Any = None
        self._unseen_idf = 0.0
        if vectorizer is not None:
            self._unseen_idf = float(np.log(1.0 + phrasings.shape[0]) + 1.0)  # smooth idf, df=0
            counts = np.diff(np.append(starts, phrasings.shape[0]))
            owner = np.repeat(np.arange(len(entries)), counts)
            membership = sparse.csr_matrix(
                (np.ones(len(owner)), (owner, np.arange(len(owner)))),
                shape=(len(entries), phrasings.shape[0]),
            )
            self._centroids = _l2_rows(membership @ phrasings)

    @classmethod
    def build(cls, entries: Sequence[KnowledgeEntry]) -> KnowledgeIndex:
        """Index ``entries``; raises ``ValueError`` on duplicate entry ids."""
        # Deferred: importing scikit-learn takes ~0.7 s, which every CLI
        # command (even --help) would otherwise pay.
        from sklearn.feature_extraction.text import TfidfVectorizer

        seen: set[str] = set()
        for entry in entries:
            if entry.id in seen:
                raise ValueError(f"duplicate knowledge entry id: {entry.id!r}")
            seen.add(entry.id)
        phrasings: list[str] = []
        starts: list[int] = []
        for entry in entries:
            starts.append(len(phrasings))
            phrasings.append(entry.question)
            phrasings.extend(entry.similar)
        if not any(tokenize(p) for p in phrasings):
            return cls(tuple(entries), None, None, np.zeros(0, dtype=np.intp))
        vectorizer = TfidfVectorizer(
            analyzer=tokenize, token_pattern=None, sublinear_tf=True, norm=None, dtype=np.float64
        )
        matrix = _l2_rows(vectorizer.fit_transform(phrasings))
        return cls(tuple(entries), vectorizer, matrix, np.asarray(starts, dtype=np.intp))

    def __len__(self) -> int:
        """The number of entries."""
        return len(self._entries)

    @property
    def entry_ids(self) -> tuple[str, ...]:
        """The ids of the indexed entries, in the order they were given."""
        return tuple(entry.id for entry in self._entries)

    def scores(self, query: str) -> NDArray[np.float64]:
        """The score of every entry for ``query``, in entry order (all 0 if none)."""
        if self._vectorizer is None or not self._entries:
            return np.zeros(len(self._entries), dtype=np.float64)
        vector = self._query_vector(self._vectorizer, query)
        if vector is None:
            return np.zeros(len(self._entries), dtype=np.float64)
        per_phrasing = (self._phrasings @ vector).toarray().ravel()
        best = np.maximum.reduceat(per_phrasing, self._starts)
        centroid = (self._centroids @ vector).toarray().ravel()
        combined: NDArray[np.float64] = np.clip((best + centroid) / 2.0, 0.0, 1.0)
        return combined

    def _query_vector(self, vectorizer: TfidfVectorizer, query: str) -> Any:
        """The query as a column vector of known features, divided by the norm of
        all its features (unknown ones weighted with the unseen-feature IDF)."""
        known = vectorizer.transform([query])
        vocabulary = vectorizer.vocabulary_
        unseen = Counter(t for t in tokenize(query) if t not in vocabulary)
        unseen_sq = sum(((1.0 + np.log(n)) * self._unseen_idf) ** 2 for n in unseen.values())
        norm = float(np.sqrt(known.multiply(known).sum() + unseen_sq))
        return (known / norm).T.tocsr() if norm > 0.0 else None

    def search(self, query: str, limit: int = 3) -> tuple[Match, ...]:
        """The best ``limit`` entries for ``query``, best first, one Match per entry.

        Entries scoring 0 (no shared feature) are left out, so an empty index, an
        empty or whitespace-only query, or one with no known word returns ``()``.
        Ties are broken by entry order.
        """
        if limit <= 0 or not query.strip():
            return ()
        scores = self.scores(query)
        order = np.argsort(-scores, kind="stable")[:limit]
        return tuple(self._match(int(i), float(scores[i])) for i in order if scores[i] > 0.0)

    def _match(self, position: int, score: float) -> Match:
        entry = self._entries[position]
        return Match(entry.id, entry.question, entry.answer, score)


def _l2_rows(matrix: Any) -> Any:
    """``matrix`` (sparse) with every row scaled to unit L2 norm (CSR)."""
    from sklearn.preprocessing import normalize

    return normalize(matrix).tocsr()


def best_answer(
    index: KnowledgeIndex, query: str, threshold: float = DEFAULT_THRESHOLD
) -> Match | None:
    """The best match for ``query``, or ``None`` when its score is below ``threshold``."""
    found = index.search(query, limit=1)
    if not found or found[0].score < threshold:
        return None
    return found[0]
