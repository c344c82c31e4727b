"""Grouping the questions the knowledge base cannot answer (pure).

``kindbot kb unanswered`` re-asks the tenant's stored inbound questions with
the *current* knowledge base and threshold (:func:`unanswered`), so questions
answered since by a new entry drop out, and groups the rest
(:func:`cluster_questions`) to show where new entries would help most.

Clustering is leader clustering over the retrieval features' TF-IDF vectors
(L2-normalised): distinct texts are visited from the most frequent down; a
text joins the first-created cluster whose leader it resembles with cosine ≥
``similarity``, else it leads a new one. Deterministic, and linear in
texts x clusters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kindbot.dialogue.lexical import LexicalIndex
from kindbot.dialogue.normalize import normalize_text
from kindbot.dialogue.responder import wants_person
from kindbot.dialogue.retrieval import KnowledgeIndex
from kindbot.dialogue.tokens import builtin_synonyms, tokenize

__all__ = ["DEFAULT_SIMILARITY", "QuestionCluster", "cluster_questions", "unanswered"]

DEFAULT_SIMILARITY = 0.3
EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class QuestionCluster:
    """Similar unanswered questions: how many were asked, the leader (the most
    asked text) and up to :data:`EXAMPLES` distinct texts, most asked first."""

    count: int
    leader: str
    examples: tuple[str, ...]


def unanswered(index: KnowledgeIndex, questions: Sequence[str], threshold: float) -> list[str]:
    """The ``questions`` the bot would answer with its fallback today.

    Blank texts and requests for a person (人工, human …) are left out: they
    are not knowledge-base questions.
    """
    missed: list[str] = []
    for text in questions:
        if not text.strip() or wants_person(text):
            continue
        found = index.search(text, limit=1)
        if not found or found[0].score < threshold:
            missed.append(text)
    return missed


def cluster_questions(
    questions: Sequence[str], similarity: float = DEFAULT_SIMILARITY
) -> list[QuestionCluster]:
    """Clusters of ``questions``, largest first (ties: first-created first).

    Texts equal after normalisation count as one text asked several times;
    texts with no features at all (only punctuation) are left out.
    """
    shown: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for text in questions:
        key = normalize_text(text)
        if tokenize(key):
            shown.setdefault(key, text.strip())
            counts[key] += 1
    if not counts:
        return []
    distinct = sorted(counts, key=lambda k: (-counts[k], k))
    synonyms = builtin_synonyms()
    vectors = LexicalIndex.build([tokenize(k, synonyms) for k in distinct], range(len(distinct)))
    rows = vectors.rows()
    leaders: list[int] = []
    members: list[list[int]] = []
    for position in range(len(distinct)):
        row = rows[position]
        if leaders and row.nnz:
            cosines = np.asarray((rows[leaders] @ row.T).todense()).ravel()
            best = int(np.argmax(cosines))
            if cosines[best] >= similarity:
                members[best].append(position)
                continue
        leaders.append(position)
        members.append([position])
    clusters = [
        QuestionCluster(
            count=sum(counts[distinct[m]] for m in group),
            leader=shown[distinct[group[0]]],
            examples=tuple(shown[distinct[m]] for m in group[:EXAMPLES]),
        )
        for group in members
    ]
    order = sorted(range(len(clusters)), key=lambda i: (-clusters[i].count, i))
    return [clusters[i] for i in order]
