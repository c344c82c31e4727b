"""The optional statistical stage: a character n-gram linear model (off by default).

Trained on a labelled TSV (:mod:`kindbot.moderation.evaluation`) with
``kindbot moderation train``. Characters 1–3-grams of the *normalised*
text (so the model sees the same folded text as the lexicon), TF-IDF,
logistic regression. It only ever adds ``flag`` findings, and only when the
lexicon found nothing and the model's probability reaches ``threshold``.

Model files are pickles: load only files you made (``train`` writes them).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from kindbot.core.errors import InputFileError, InputProblem
from kindbot.core.screening import ContentCategory
from kindbot.moderation.evaluation import OK, LabelledText
from kindbot.moderation.projection import normalise

DEFAULT_THRESHOLD = 0.7
FORMAT = "kindbot-moderation-ngram-1"


@dataclass(frozen=True)
class NgramClassifier:
    """:class:`kindbot.moderation.screener.TextClassifier` over a fitted scikit-learn pipeline."""

    model: Any
    threshold: float = DEFAULT_THRESHOLD

    def classify(self, text: str) -> tuple[ContentCategory, float] | None:
        folded = normalise(text[:20_000])
        if not folded:
            return None
        probabilities = self.model.predict_proba([folded])[0]
        best = int(probabilities.argmax())
        label = str(self.model.classes_[best])
        if label == OK or probabilities[best] < self.threshold:
            return None
        return ContentCategory(label), float(probabilities[best])


def train(rows: Sequence[LabelledText]) -> NgramClassifier:
    """Fit the model on ``rows`` (needs at least two labels)."""
    labels = [row.expected for row in rows]
    if len(set(labels)) < 2:
        raise InputFileError([InputProblem("<training set>", None, "", "needs two labels")])
    model = Pipeline(
        [
            ("ngrams", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)),
            ("linear", LogisticRegression(max_iter=2000, class_weight="balanced")),
        ]
    )
    model.fit([normalise(row.text) for row in rows], labels)
    return NgramClassifier(model)


def save(classifier: NgramClassifier, path: Path) -> None:
    path.write_bytes(pickle.dumps({"format": FORMAT, "model": classifier.model}))


def load(path: Path, threshold: float = DEFAULT_THRESHOLD) -> NgramClassifier:
    """A model written by :func:`save`; raises :class:`InputFileError` otherwise."""
    try:
        data = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
        raise InputFileError([InputProblem(str(path), None, "", f"not a model: {exc}")]) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputFileError([InputProblem(str(path), None, "", "not a kindbot model file")])
    return NgramClassifier(data["model"], threshold)
