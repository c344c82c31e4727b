"""What a full knowledge-base build learns, kept so that no other process learns it again (pure).

A full build fits the confidence model on held-out phrasings and trains the
classifier (:mod:`kindbot.dialogue.calibrate`, :mod:`kindbot.dialogue.learned`):
seconds to a minute of CPU for a big knowledge base. Both are deterministic
functions of what the build saw — the tokenised phrasings and answers, which
entry owns each phrasing, their sentence vectors — so a :class:`FittedModel`
carries the digest of those inputs (:func:`inputs_digest`) and a build reuses
it only when its own inputs have the same digest. Any change to the entries,
the synonyms, the tokeniser, the sentence model or this format
(:data:`FIT_FORMAT`) gives another digest, and the model is fitted afresh.

Serialised with NumPy's ``.npz`` (``allow_pickle=False``: loading runs no code).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kindbot.dialogue.dense import DenseVectors
from kindbot.dialogue.fusion import Calibration
from kindbot.dialogue.learned import EntryClassifier

__all__ = ["FIT_FORMAT", "FittedModel", "inputs_digest"]

FIT_FORMAT = 1
"""Bump when what a fit produces from the same inputs changes (features, fitting, layout)."""


def inputs_digest(
    phrasings: Sequence[Sequence[str]],
    owners: Sequence[int],
    answers: Sequence[Sequence[str]],
    vectors: DenseVectors | None,
    *,
    learn: bool,
) -> str:
    """SHA-256 (hex) of everything a fit depends on: the tokens of every phrasing
    and answer, the owner of each phrasing, the sentence vectors (phrasings, then
    answers) and whether a classifier may be trained."""
    digest = hashlib.sha256()
    header = {"format": FIT_FORMAT, "learn": learn, "owners": list(owners)}
    digest.update(json.dumps(header, separators=(",", ":")).encode())
    for group in (phrasings, answers):
        digest.update(json.dumps(group, ensure_ascii=False, separators=(",", ":")).encode())
    if vectors is not None:
        digest.update(str(vectors.shape).encode())
        digest.update(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class FittedModel:
    """The confidence model, the chosen regularisation ``c`` and the trained
    classifier (None: none fits) of a build whose inputs had digest ``inputs``."""

    inputs: str
    calibration: Calibration
    c: float
    classifier: EntryClassifier | None

    def to_bytes(self) -> bytes:
        """The model as ``.npz`` bytes (arrays only)."""
        arrays: dict[str, NDArray[np.generic]] = {
            "inputs": np.frombuffer(self.inputs.encode("ascii"), dtype=np.uint8),
            "format": np.asarray([FIT_FORMAT], dtype=np.int64),
            "rank_weights": np.asarray(self.calibration.rank_weights, dtype=np.float64),
            "confidence_weights": np.asarray(self.calibration.confidence_weights),
            "scalars": np.asarray(
                [self.calibration.confidence_bias, self.calibration.examples, self.c],
                dtype=np.float64,
            ),
        }
        classifier = self.classifier
        if classifier is not None:
            arrays["weights_t"] = classifier.weights_t
            arrays["bias"] = classifier.bias
            if classifier.dense_t is not None:
                arrays["dense_t"] = classifier.dense_t
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FittedModel:
        """The model :meth:`to_bytes` wrote; ``ValueError`` when ``data`` is not one
        (or is of another :data:`FIT_FORMAT`)."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as stored:
                fields = {name: stored[name] for name in stored.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise ValueError(f"not a fitted knowledge model: {exc}") from exc
        required = {"inputs", "format", "rank_weights", "confidence_weights", "scalars"}
        if not required <= fields.keys() or int(fields["format"][0]) != FIT_FORMAT:
            raise ValueError("not a fitted knowledge model of this format")
        bias, examples, c = (float(value) for value in fields["scalars"])
        calibration = Calibration(
            rank_weights=tuple(float(w) for w in fields["rank_weights"]),
            confidence_weights=tuple(float(w) for w in fields["confidence_weights"]),
            confidence_bias=bias,
            examples=int(examples),
        )
        classifier = None
        if "weights_t" in fields:
            dense_t = fields.get("dense_t")
            classifier = EntryClassifier(fields["weights_t"], fields["bias"], dense_t)
        inputs = bytes(fields["inputs"].astype(np.uint8)).decode("ascii")
        return cls(inputs, calibration, c, classifier)
