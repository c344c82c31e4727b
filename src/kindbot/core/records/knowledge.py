"""The knowledge base as stored: entries, tuning, customers' questions and sentence vectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class KnowledgeEntry:
    """One FAQ entry: a question, its answer and other phrasings of it."""

    id: str
    question: str
    answer: str
    similar: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KbTuning:
    """A threshold chosen on ``cases`` labelled queries, and the accuracy it gave."""

    threshold: float
    cases: int
    accuracy: float
    tuned_at: datetime


@dataclass(frozen=True, slots=True)
class InboundQuestion:
    """The text of one stored inbound text message, and who sent it (``contact_id``)."""

    message_id: str
    text: str
    created_at: datetime
    contact_id: str


@dataclass(frozen=True, slots=True)
class StoredVector:
    """One text's sentence vector as stored: ``digest`` is the SHA-256 (hex) of
    the exact text, ``data`` its ``dim`` float32 values (little-endian)."""

    digest: str
    dim: int
    data: bytes


@dataclass(frozen=True, slots=True)
class StoredModel:
    """A tenant's stored fitted model for one model key (``tx.kb.model``).

    ``payload`` is the model fitted on ``kb_version`` (serialised by
    :mod:`kindbot.dialogue.fitted`); None while ``holder`` is fitting it, until
    ``lease_until``.
    """

    kb_version: int
    holder: str
    lease_until: datetime | None
    payload: bytes | None
