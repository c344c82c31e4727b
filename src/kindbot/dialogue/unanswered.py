"""Grouping the questions the knowledge base cannot answer (pure).

``kindbot kb unanswered`` re-asks the tenant's stored inbound questions with
the *current* knowledge base and threshold (:func:`unanswered`), so questions
answered since by a new entry drop out, and groups the rest
(:func:`cluster_questions`) to show where new entries would help most: "23
customers asked about X", once.

What is a question at all is :func:`is_question`: the pipeline stores a
message as asked only when it is one, and :func:`unanswered` applies it again
to rows stored before that rule (or by an older version of it).

Grouping is average-linkage agglomerative clustering of the distinct texts:
two groups merge while the mean cosine over all their pairs of texts is at
least ``similarity``. The vectors are the platform's sentence encoder's when
there is one (paraphrases across wording and language: "有实体店吗", "你们线下
门店在哪", "do you have a physical store"), else the retrieval features' TF-IDF
rows (shared words only). On the labelled set in
``tests/data/unanswered/paraphrases.yaml`` (27 topics, 135 Chinese and English
paraphrases) the multilingual encoder gives B-cubed F1 0.88 at its default
cosine :data:`ENCODER_SIMILARITY` (precision 0.90, recall 0.87; the leader
clustering used before peaks at 0.71), TF-IDF 0.44 at :data:`DEFAULT_SIMILARITY`
(figures by threshold: ``tests/unit/dialogue/test_unanswered_encoder.py``).
Deterministic for a given order of ``questions``.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kindbot.dialogue.dense import TextEncoder
from kindbot.dialogue.lexical import LexicalIndex
from kindbot.dialogue.normalize import normalize_text
from kindbot.dialogue.responder import wants_person
from kindbot.dialogue.retrieval import KnowledgeIndex
from kindbot.dialogue.slots import valid_order_number, valid_phone
from kindbot.dialogue.tokens import builtin_synonyms, tokenize

__all__ = [
    "DEFAULT_SIMILARITY",
    "ENCODER_SIMILARITY",
    "Asked",
    "QuestionCluster",
    "cluster_questions",
    "is_question",
    "unanswered",
]

DEFAULT_SIMILARITY = 0.3
"""Mean TF-IDF cosine for texts to share a group (no sentence encoder)."""
ENCODER_SIMILARITY = 0.4
"""Mean sentence-vector cosine for texts to share a group (multilingual USE v3:
B-cubed F1 0.84 / 0.88 / 0.84 at 0.36 / 0.40 / 0.44 on the labelled set)."""
EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class Asked:
    """One stored customer question: its text and who asked (a contact id;
    None = not known, the message counts as its own customer)."""

    text: str
    asker: str | None = None


@dataclass(frozen=True, slots=True)
class QuestionCluster:
    """Similar unanswered questions.

    ``count``: messages; ``customers``: distinct askers among them (a customer
    asking five times is one). ``leader``: the text most customers asked;
    ``examples``: up to :data:`EXAMPLES` (or as asked) distinct texts, most
    asked first (the leader first).
    """

    count: int
    customers: int
    leader: str
    examples: tuple[str, ...]


def is_question(text: str, command: Callable[[str], bool] | None = None) -> bool:
    """Whether a customer's whole message can be a question for the knowledge base.

    Not one: a blank message; a request for a person (:func:`wants_person`);
    a message without a single letter or ideograph (a numbered pick such as
    ``2`` or ``２``, a bare number, punctuation, emoji); one holding a mainland
    mobile number (a customer leaving contact details, not asking); a bare
    order number (the flow slot's default rule matching the whole message).
    ``command``: another layer's whole-message commands (the guard's opt-out
    and opt-in words), which this layer cannot import.
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    if not any(unicodedata.category(ch).startswith("L") for ch in folded):
        return False
    if wants_person(folded) or (command is not None and command(folded)):
        return False
    if valid_phone(folded) is not None:
        return False
    return valid_order_number(folded) != folded


def unanswered(
    index: KnowledgeIndex,
    questions: Sequence[Asked],
    threshold: float,
    *,
    command: Callable[[str], bool] | None = None,
) -> list[Asked]:
    """The ``questions`` the bot would answer with its fallback today, in order.

    What is not a question (:func:`is_question`, with ``command``) is left out.
    """
    missed: list[Asked] = []
    for asked in questions:
        if not is_question(asked.text, command):
            continue
        found = index.search(asked.text, limit=1)
        if not found or found[0].score < threshold:
            missed.append(asked)
    return missed


@dataclass(frozen=True, slots=True)
class _Text:
    """One distinct (normalised) text: as first shown, its messages, who asked it
    and how many of its messages say nobody."""

    shown: str
    messages: int
    askers: frozenset[str]
    unknown: int

    @property
    def customers(self) -> int:
        return len(self.askers) + self.unknown


def cluster_questions(
    questions: Iterable[Asked | str],
    similarity: float | None = None,
    *,
    encoder: TextEncoder | None = None,
    examples: int = EXAMPLES,
) -> list[QuestionCluster]:
    """Groups of ``questions``, most customers first (then most messages, then
    the order their leading texts were first asked).

    A plain ``str`` is a question by an unknown customer. Texts equal after
    normalisation are one text asked several times; texts with no word
    features (only punctuation) are left out. ``encoder``: the sentence
    encoder whose vectors are compared (None: TF-IDF); ``similarity``: the
    mean cosine to join a group, by default :data:`ENCODER_SIMILARITY` with an
    encoder and :data:`DEFAULT_SIMILARITY` without. ``examples``: how many
    distinct texts a group shows at most.
    """
    texts = _distinct(questions)
    if not texts:
        return []
    keys = list(texts)
    if similarity is None:
        similarity = DEFAULT_SIMILARITY if encoder is None else ENCODER_SIMILARITY
    labels = _average_linkage(_cosines(keys, encoder), similarity)
    groups: dict[int, list[int]] = defaultdict(list)
    for position, label in enumerate(labels):
        groups[label].append(position)
    ranked = []
    for members in groups.values():
        members.sort(key=lambda p: (-texts[keys[p]].customers, -texts[keys[p]].messages, p))
        ranked.append(_cluster([texts[keys[p]] for p in members], members[0], examples))
    ranked.sort(key=lambda c: (-c[1].customers, -c[1].count, c[0]))
    return [cluster for _, cluster in ranked]


def _distinct(questions: Iterable[Asked | str]) -> dict[str, _Text]:
    """The distinct normalised texts with word features, in first-asked order."""
    shown: dict[str, str] = {}
    messages: Counter[str] = Counter()
    askers: dict[str, set[str]] = defaultdict(set)
    unknown: Counter[str] = Counter()
    for question in questions:
        asked = Asked(question) if isinstance(question, str) else question
        key = normalize_text(asked.text)
        if not tokenize(key):
            continue
        shown.setdefault(key, asked.text.strip())
        messages[key] += 1
        if asked.asker is None:
            unknown[key] += 1
        else:
            askers[key].add(asked.asker)
    return {
        key: _Text(text, messages[key], frozenset(askers[key]), unknown[key])
        for key, text in shown.items()
    }


def _cluster(members: list[_Text], first: int, examples: int) -> tuple[int, QuestionCluster]:
    """The group of ``members`` (most asked first), keyed by its leader's position."""
    return first, QuestionCluster(
        count=sum(m.messages for m in members),
        customers=len(frozenset().union(*(m.askers for m in members)))
        + sum(m.unknown for m in members),
        leader=members[0].shown,
        examples=tuple(m.shown for m in members[:examples]),
    )


def _cosines(keys: list[str], encoder: TextEncoder | None) -> NDArray[np.float32]:
    """The texts' pairwise cosines: of the encoder's sentence vectors, or of TF-IDF rows."""
    if encoder is not None:
        vectors = np.asarray(encoder.encode(keys), dtype=np.float32)  # unit rows (contract)
        cosines: NDArray[np.float32] = vectors @ vectors.T
        return cosines
    synonyms = builtin_synonyms()
    rows = LexicalIndex.build([tokenize(k, synonyms) for k in keys], range(len(keys))).rows()
    return np.asarray((rows @ rows.T).toarray(), dtype=np.float32)


def _average_linkage(cosines: NDArray[np.float32], similarity: float) -> list[int]:
    """A group label per text: average-linkage clusters cut at mean cosine ``similarity``."""
    if len(cosines) == 1:
        return [1]
    # Here, not at the top: the pipeline imports this module for is_question (~0.1 s).
    from scipy.cluster.hierarchy import fcluster, linkage

    upper = np.triu_indices(len(cosines), k=1)
    distances = 1.0 - np.clip(cosines[upper], -1.0, 1.0).astype(np.float64)
    tree = linkage(distances, method="average")
    labels = fcluster(tree, t=1.0 - similarity, criterion="distance")
    return [int(label) for label in labels]
