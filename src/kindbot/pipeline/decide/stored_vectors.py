"""Sentence vectors kept with the knowledge base, so a text is encoded once.

An index build (:class:`kindbot.pipeline.decide.knowledge.KnowledgeCache`) reads the
tenant's stored vectors for the current encoder (``tx.kb.vectors``), builds
through a :class:`StoredVectors` encoder that answers those texts from storage
and asks the model only for the rest, then stores what the model encoded
(``tx.kb.add_vectors``) and drops the vectors of texts the knowledge base no
longer has. A restarted server, or a second one, therefore encodes nothing;
after an edit only the new texts are encoded — and ``kindbot kb import`` /
``kindbot apply`` build once themselves, so servers find even those stored.

Texts are opaque here: a vector is keyed by the encoder's ``name`` and the
SHA-256 of the exact text (:func:`text_digest`), whatever the index chose to
encode (questions, ``similar`` phrasings, answers).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from kindbot.core.records.knowledge import KnowledgeEntry, StoredVector
from kindbot.dialogue.dense import DenseVectors, TextEncoder

__all__ = [
    "PRUNE_LIMIT",
    "FreshVectors",
    "StoredVectors",
    "entry_texts",
    "stored",
    "text_digest",
    "unpacked",
]

PRUNE_LIMIT = 2_000
"""Stale vectors dropped per store at most (the rest go with the next one)."""

_FLOAT = np.dtype("<f4")


def text_digest(text: str) -> str:
    """The key of ``text``'s vector: SHA-256 (hex) of its exact UTF-8 bytes
    (``surrogatepass``: total for any ``str``)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def entry_texts(entries: Iterable[KnowledgeEntry]) -> list[str]:
    """The texts of ``entries`` an index may encode: question, ``similar`` phrasings, answer."""
    return [text for e in entries for text in (e.question, *e.similar, e.answer)]


def unpacked(rows: Iterable[StoredVector]) -> dict[str, DenseVectors]:
    """Stored rows as vectors by digest (a row whose size does not match its ``dim`` is skipped)."""
    return {
        row.digest: np.frombuffer(row.data, dtype=_FLOAT).astype(np.float32)
        for row in rows
        if row.dim > 0 and len(row.data) == row.dim * _FLOAT.itemsize
    }


def stored(vectors: Mapping[str, DenseVectors]) -> list[StoredVector]:
    """Vectors by digest as rows to store (little-endian float32)."""
    return [
        StoredVector(digest, int(v.shape[0]), np.ascontiguousarray(v, dtype=_FLOAT).tobytes())
        for digest, v in vectors.items()
    ]


@dataclass(frozen=True, slots=True)
class FreshVectors:
    """What one build did with the model: the vectors it had to encode (by digest)
    and the digests of every text it asked for."""

    encoded: dict[str, DenseVectors]
    asked: frozenset[str]


class StoredVectors:
    """A :class:`~kindbot.dialogue.dense.TextEncoder` for one build: texts whose
    vector is ``known`` (stored) cost nothing, the others go to ``encoder``.

    Until :meth:`finish` it records what it encoded and every text asked for;
    after, it only passes texts to ``encoder`` (the index keeps it for its
    queries, which ``encoder``'s own memo serves). Thread-safe.
    """

    def __init__(self, encoder: TextEncoder, known: Mapping[str, DenseVectors]) -> None:
        self.name = encoder.name
        self._encoder = encoder
        self._known: dict[str, DenseVectors] | None = dict(known)
        self._encoded: dict[str, DenseVectors] = {}
        self._asked: set[str] = set()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> DenseVectors:
        """One unit-length row per text, in order (see the class docstring)."""
        with self._lock:
            known = self._known
        if known is None:
            return self._encoder.encode(texts)
        digests = [text_digest(text) for text in texts]
        pairs = list(zip(texts, digests, strict=True))
        missing = list(dict.fromkeys(text for text, digest in pairs if digest not in known))
        fresh = dict(zip(missing, self._encoder.encode(missing), strict=True)) if missing else {}
        with self._lock:
            if self._known is not None:
                self._asked.update(digests)
                self._encoded.update((text_digest(t), v) for t, v in fresh.items())
        rows = [fresh[text] if digest not in known else known[digest] for text, digest in pairs]
        if not rows:
            return self._encoder.encode(texts)
        return np.vstack(rows).astype(np.float32, copy=False)

    def finish(self) -> FreshVectors:
        """Stop recording and forget the known vectors; what the build encoded and asked."""
        with self._lock:
            self._known = None
            done = FreshVectors(dict(self._encoded), frozenset(self._asked))
            self._encoded.clear()
            self._asked.clear()
        return done
