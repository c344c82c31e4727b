"""The optional sentence-vector signal: trained into the classifier, asked per query."""

from __future__ import annotations

import pytest
from tests.support.encoders import ConceptEncoder

from kindbot.dialogue.retrieval import KnowledgeIndex, best_answer
from kindbot.records import KnowledgeEntry


def _entries() -> list[KnowledgeEntry]:
    def entry(key: str, question: str, *similar: str) -> KnowledgeEntry:
        return KnowledgeEntry(key, question, f"answer about {key}", similar)

    return [
        entry(
            "cancel",
            "How do I cancel my subscription?",
            "cancel subscription",
            "I want to cancel my subscription now",
            "please cancel the subscription",
            "can you cancel my subscription",
        ),
        entry(
            "refund",
            "When will I get my refund?",
            "refund status",
            "where is my refund",
            "has the refund been paid",
            "refund not received yet",
        ),
        entry(
            "late",
            "My parcel is late",
            "the parcel has not arrived",
            "parcel still not here",
            "why is my parcel late",
            "parcel is taking long",
        ),
        entry(
            "password",
            "I forgot my password",
            "reset my password",
            "password does not work",
            "change my password",
            "password reset link",
        ),
        entry(
            "hours",
            "What are your opening hours?",
            "when are you open",
            "opening times",
            "are you open on sunday",
            "what time do you close",
        ),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how can I terminate my plan", "cancel"),  # no word shared with its entry
        ("my package is delayed", "late"),
        ("where is my money", "refund"),
    ],
)
def test_sentence_vectors_answer_paraphrases_the_words_miss(query: str, expected: str) -> None:
    words_only = KnowledgeIndex.build(_entries())
    with_meaning = KnowledgeIndex.build(_entries(), encoder=ConceptEncoder())
    assert with_meaning.dense
    assert not words_only.dense
    assert best_answer(words_only, query) is None, "the words alone are not sure"
    answer = best_answer(with_meaning, query)
    assert answer is not None
    assert answer.entry_id == expected


def test_every_phrasing_is_encoded_once_per_build_and_queries_on_search() -> None:
    encoder = ConceptEncoder()
    index = KnowledgeIndex.build(_entries(), encoder=encoder)
    phrasings = sum(1 + len(e.similar) for e in _entries())
    assert len(encoder.asked) == phrasings
    index.search("my package is delayed")
    assert encoder.asked[-1] == "my package is delayed"
    index.prepare("where is my money")
    assert encoder.asked[-1] == "where is my money"


def test_without_a_classifier_the_encoder_is_not_used() -> None:
    encoder = ConceptEncoder()
    single = [KnowledgeEntry("a", "cancel subscription", "x"), KnowledgeEntry("b", "refund", "y")]
    index = KnowledgeIndex.build(single, encoder=encoder)
    assert not index.learned
    assert not index.dense
    index.prepare("terminate plan")
    index.search("cancel")
    assert encoder.asked == []


def test_learn_false_never_encodes() -> None:
    encoder = ConceptEncoder()
    index = KnowledgeIndex.build(_entries(), encoder=encoder, learn=False)
    assert not index.dense
    assert encoder.asked == []
