"""The optional sentence-vector signal: trained into the classifier, asked per query."""

from __future__ import annotations

import pytest
from tests.support.encoders import ConceptEncoder

from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.retrieval import KnowledgeIndex, best_answer


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


def test_every_phrasing_and_answer_is_encoded_once_per_build_and_queries_on_search() -> None:
    encoder = ConceptEncoder()
    index = KnowledgeIndex.build(_entries(), encoder=encoder)
    phrasings = sum(1 + len(e.similar) for e in _entries())
    assert len(encoder.asked) == phrasings + len(_entries())
    index.search("my package is delayed")
    assert encoder.asked[-1] == "my package is delayed"
    index.sentence("Where is my MONEY")
    assert encoder.asked[-1] == "where is my money", "encoded by its normalised key"


def test_a_query_that_is_a_phrasing_reuses_its_stored_vector() -> None:
    encoder = ConceptEncoder()
    index = KnowledgeIndex.build(_entries(), encoder=encoder)
    asked = len(encoder.asked)
    assert not index.wants_sentence("Refund status")
    assert index.wants_sentence("refund status please")
    index.sentence("Refund  status")
    found = index.search("refund status")
    assert found[0].entry_id == "refund"
    assert len(encoder.asked) == asked


def test_one_question_per_entry_still_uses_the_sentence_vectors() -> None:
    encoder = ConceptEncoder()
    single = [
        KnowledgeEntry("cancel", "cancel subscription", "We stop it at the end of the month."),
        KnowledgeEntry("refund", "refund status", "Refunds arrive within 3 days."),
        KnowledgeEntry("late", "my parcel is late", "Parcels take 2 to 4 days."),
        KnowledgeEntry("password", "forgot password", "Use the reset link."),
    ]
    index = KnowledgeIndex.build(single, encoder=encoder)
    assert not index.learned
    assert index.dense
    found = index.search("terminate my plan")
    assert found
    assert found[0].entry_id == "cancel"


def test_learn_false_leaves_out_the_classifier_not_the_vectors() -> None:
    encoder = ConceptEncoder()
    index = KnowledgeIndex.build(_entries(), encoder=encoder, learn=False)
    assert index.dense
    assert not index.learned
