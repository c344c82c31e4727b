"""Moderation quality: the labelled set, and public development splits.

* ``tests/data/moderation/labelled.tsv``: precision/recall/F1 per category,
  flagged recall and the false-positive rate on ordinary messages.
* DataCLUE CIC (``cic/train.json`` + ``dev.json``): 12,000 real buyer
  messages to Taobao shops. None is prohibited content, so every finding is
  counted as a false positive (a few rows are genuine insults or spam, which
  the listing shows).
* COLD (``cold/dev.csv``): Chinese offensive language (label 1) against
  safe text (label 0), as inbound messages: how much of it the abuse
  lexicon flags. COLD's offence is mostly implicit (stereotypes about
  regions, races, genders) rather than insults, so a lexicon is expected
  to catch little of it; the figure is a floor, not a target.

    .venv/bin/python bench/moderation_quality.py [--data ../shared/data/eval] [--show 20]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from kindbot.core.screening import ContentCategory, ContentContext, Direction
from kindbot.moderation import default_screener
from kindbot.moderation.evaluation import evaluate, read_labelled

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "eval"
INBOUND = ContentContext(Direction.INBOUND)
OUTBOUND = ContentContext(Direction.OUTBOUND)


def labelled() -> None:
    report = evaluate(
        default_screener(), read_labelled(REPO_ROOT / "tests/data/moderation/labelled.tsv")
    )
    print(f"labelled.tsv: {len(report.outcomes)} rows")
    for s in report.scores:
        scores = f"P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}"
        print(f"  {s.category:12} support {s.support:4}  {scores}")
    rate = report.false_positive_rate
    print(f"  flagged recall {report.flagged_recall:.3f}; FP rate on ok rows {rate:.2%}")


def cic(data: Path, show: int) -> None:
    screener = default_screener()
    rows = []
    for name in ("train.json", "dev.json"):
        path = data / "cic" / name
        if path.exists():
            rows += [
                json.loads(line)["sentence"]
                for line in path.read_text(encoding="utf-8").splitlines()
            ]
    if not rows:
        print("CIC: not found")
        return
    for label, context in (("inbound", INBOUND), ("outbound", OUTBOUND)):
        flagged = [(t, v) for t in rows if (v := screener.screen(t, context)).matches]
        by_category: dict[str, int] = {}
        for _, verdict in flagged:
            for category in verdict.categories:
                by_category[category.value] = by_category.get(category.value, 0) + 1
        print(
            f"CIC ({len(rows)} buyer messages) as {label}: {len(flagged)} with findings "
            f"({len(flagged) / len(rows):.2%}); by category {by_category}"
        )
        for text, verdict in flagged[:show]:
            print(f"    {verdict.level.value:5} {','.join(verdict.categories)}: {text[:70]}")


def cold(data: Path) -> None:
    path = data / "cold" / "dev.csv"
    if not path.exists():
        print("COLD: not found")
        return
    screener = default_screener()
    with path.open(encoding="utf-8-sig") as handle:
        rows = [(r["TEXT"], r["label"] == "1") for r in csv.DictReader(handle)]
    hits = [
        (offensive, ContentCategory.ABUSE in screener.screen(t, INBOUND).categories)
        for t, offensive in rows
    ]
    tp = sum(1 for o, h in hits if o and h)
    fp = sum(1 for o, h in hits if not o and h)
    positives = sum(1 for o, _ in hits if o)
    print(
        f"COLD dev ({len(rows)} rows, {positives} offensive): abuse flagged on {tp} offensive "
        f"(recall {tp / positives:.3f}) and {fp} safe rows "
        f"(precision {tp / max(1, tp + fp):.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--show", type=int, default=15)
    args = parser.parse_args()
    labelled()
    cic(args.data, args.show)
    cold(args.data)


if __name__ == "__main__":
    main()
