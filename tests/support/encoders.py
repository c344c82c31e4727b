"""A tiny deterministic sentence encoder for the dense path's logic tests.

It knows a handful of concepts (words that mean the same thing share one
dimension), so it does what a real sentence model does for those words and
nothing else; the real model's test is ``tests/unit/dialogue/test_dense_model.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from kindbot.dialogue.dense import DenseVectors, TextEncoder

CONCEPTS = (
    ("cancel", "terminate", "end", "stop", "quit"),
    ("subscription", "plan", "membership"),
    ("refund", "money", "reimburse"),
    ("parcel", "package", "delivery", "shipment"),
    ("late", "delayed", "slow"),
    ("password", "login", "credentials"),
)


class ConceptEncoder:
    """Encodes a text as the normalised count of each concept's words in it;
    records every text it was asked for (``asked``)."""

    name = "concepts-test"

    def __init__(self) -> None:
        self.asked: list[str] = []
        self._dimension = {word: i for i, words in enumerate(CONCEPTS) for word in words}

    def encode(self, texts: Sequence[str]) -> DenseVectors:
        """One unit-length row per text (zeros when it names no concept)."""
        self.asked.extend(texts)
        rows = np.zeros((len(texts), len(CONCEPTS) + 1), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                if word in self._dimension:
                    rows[row, self._dimension[word]] += 1.0
            rows[row, -1] = 0.1  # never all zero
            rows[row] /= np.linalg.norm(rows[row])
        return rows


class CountingEncoder:
    """Another encoder under its own name, recording every text it was asked for (``asked``)."""

    def __init__(self, real: TextEncoder) -> None:
        self.name = real.name
        self.asked: list[str] = []
        self._real = real

    def encode(self, texts: Sequence[str]) -> DenseVectors:
        self.asked.extend(texts)
        return self._real.encode(texts)
