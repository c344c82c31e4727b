"""Fit the built-in confidence models (``kindbot.dialogue.fusion.DEFAULT_*``).

A knowledge base too small to fit its own model (see
``kindbot.dialogue.calibrate``) uses a default. The defaults are fitted the
same way, by the same code, on a pooled knowledge base of CC BY data only —
CLINC150 ``train`` and BANKING77 ``train.csv`` — with few phrasings per
intent, like a small FAQ: 5 per entry for the model with the classifier, 3
for the lexical-only one. ``DEFAULT_LEXICAL_CALIBRATION`` is the second
printed model, rounded; ``DEFAULT_CALIBRATION`` is a more cautious hand-set
model than the first (see the comment in ``fusion.py``). Run from the
repository root::

    .venv/bin/python bench/kb_fit_defaults.py [--data ../shared/data/eval]
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Sequence
from pathlib import Path

from kindbot.dialogue.calibrate import fit_calibration
from kindbot.dialogue.tokens import builtin_synonyms, tokenize

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "eval"


def pooled(data: Path, per_intent: int) -> list[list[str]]:
    """Up to ``per_intent`` utterances of every CLINC150 and BANKING77 intent."""
    groups: dict[str, list[str]] = {}
    splits = json.loads((data / "clinc150" / "dev_splits.json").read_text(encoding="utf-8"))
    for text, intent in splits["train"]:
        groups.setdefault(f"clinc:{intent}", []).append(text)
    with (data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            groups.setdefault(f"banking:{row['category']}", []).append(row["text"])
    return [texts[:per_intent] for texts in groups.values()]


def fit(data: Path, per_intent: int, learned: bool) -> None:
    table = builtin_synonyms()
    phrasings: list[list[str]] = []
    owners: list[int] = []
    for number, texts in enumerate(pooled(data, per_intent)):
        for text in texts:
            phrasings.append(tokenize(text, table))
            owners.append(number)
    model = fit_calibration(phrasings, owners, learned=learned).calibration
    rank = ", ".join(f"{w:.2f}" for w in model.rank_weights)
    confidence = ", ".join(f"{w:.2f}" for w in model.confidence_weights)
    print(f"learned={learned} per_intent={per_intent} queries={model.examples}:")
    print(f"    Calibration(({rank}), ({confidence}), {model.confidence_bias:.2f})")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    fit(args.data, 5, learned=True)
    fit(args.data, 3, learned=False)


if __name__ == "__main__":
    main()
