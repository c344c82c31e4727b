"""Knowledge-base speed and size on synthetic knowledge bases (issue 6 item 8).

Builds a knowledge base of N entries (question + 2 similar phrasings, mixed
Chinese and English words drawn from a fixed pseudo-random vocabulary), then:

* query latency: p50/p99 of ``KnowledgeIndex.search`` over 2,000 queries
  (perturbed phrasings: a word dropped, a word from elsewhere added);
* rebuild after an edit: one entry's answer and phrasing changed, the whole
  index rebuilt (what ``KnowledgeCache`` does after any edit);
* memory: what the built index keeps alive (``tracemalloc``, a second build;
  the entries themselves excluded) and the process's peak resident set size.

Tokenisation is memoised per word and per CJK run (as in a serving process,
whose cache has seen the words before), so the rebuild is the figure for an
edit in a running process; the first build pays for every distinct word.

Run from the repository root::

    .venv/bin/python bench/kb_perf.py --entries 10000
    .venv/bin/python bench/kb_perf.py --entries 100000 --queries 500
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.dialogue.dense import DenseVectors, TextEncoder
from kindbot.dialogue.retrieval import KnowledgeIndex

COMMON_CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 2500)]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    """Two- and three-character Chinese words and short English words."""
    words: set[str] = set()
    while len(words) < size:
        if rng.random() < 0.7:
            words.add("".join(rng.choice(COMMON_CJK) for _ in range(rng.choice((2, 2, 3)))))
        else:
            words.add("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6)))
    return sorted(words)


def phrase(rng: random.Random, words: Sequence[str], length: int) -> list[str]:
    return [rng.choice(words) for _ in range(length)]


def join(parts: Sequence[str]) -> str:
    return " ".join(parts)


def synthetic(count: int, seed: int = 0) -> tuple[list[KnowledgeEntry], list[str]]:
    """``count`` entries and 2,000 queries (perturbed phrasings of random entries)."""
    rng = random.Random(seed)
    words = vocabulary(rng, max(5000, count // 2))
    entries: list[KnowledgeEntry] = []
    queries: list[str] = []
    for number in range(count):
        core = phrase(rng, words, rng.randint(4, 7))
        similar = tuple(join([*rng.sample(core, len(core) - 1), rng.choice(words)]) for _ in "ab")
        entries.append(KnowledgeEntry(f"e{number}", join(core), f"answer {number}", similar))
    for _ in range(2000):
        core = rng.choice(entries).question.split(" ")
        queries.append(join([*rng.sample(core, len(core) - 1), rng.choice(words)]))
    return entries, queries


class Stored:
    """The encoder as a server's builds see it: every text encoded once is kept (the
    knowledge base's stored vectors, ``pipeline/stored_vectors.py``); ``encoded``
    counts the texts the model was given."""

    def __init__(self, model: TextEncoder) -> None:
        self.name = model.name
        self._model = model
        self._kept: dict[str, DenseVectors] = {}
        self.encoded = 0

    def encode(self, texts: Sequence[str]) -> DenseVectors:
        missing = [t for t in dict.fromkeys(texts) if t not in self._kept]
        if missing:
            self.encoded += len(missing)
            for text, vector in zip(missing, self._model.encode(missing), strict=True):
                self._kept[text] = vector
        return np.vstack([self._kept[t] for t in texts])


def latencies_ms(index: KnowledgeIndex, queries: Sequence[str]) -> tuple[float, float]:
    """p50 and p99 of ``index.search`` over ``queries`` (each asked once)."""
    index.search(queries[0] + "?")  # warm up
    latencies: list[float] = []
    for query in queries:
        started = time.perf_counter()
        index.search(query)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return latencies[len(latencies) // 2], latencies[
        min(len(latencies) - 1, int(len(latencies) * 0.99))
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument(
        "--encoder",
        choices=("usem3", "off"),
        default="usem3",
        help="the default multilingual sentence encoder, or words only",
    )
    args = parser.parse_args(argv)
    entries, queries = synthetic(args.entries)
    queries = queries[: args.queries]
    encoder: Stored | None = None
    if args.encoder == "usem3":
        from kindbot.pipeline.decide.multilingual import MultilingualEncoder

        model = MultilingualEncoder()
        model.load()
        encoder = Stored(model)
    started = time.perf_counter()
    index = KnowledgeIndex.build(entries, encoder=encoder)
    build = time.perf_counter() - started
    p50, p99 = latencies_ms(index, queries)
    if encoder is not None:  # the same queries, words only, in the same run
        words = KnowledgeIndex.build(entries)
        words_p50, words_p99 = latencies_ms(words, queries)
        del words
    edited = list(entries)
    edited[0] = replace(entries[0], answer="changed", similar=(*entries[0].similar, "新的问法"))
    encoded = encoder.encoded if encoder is not None else 0
    started = time.perf_counter()
    KnowledgeIndex.build(edited, encoder=encoder)
    rebuild = time.perf_counter() - started
    encoded = (encoder.encoded if encoder is not None else 0) - encoded
    learned = index.learned
    del index
    gc.collect()
    tracemalloc.start()
    kept = KnowledgeIndex.build(entries, encoder=encoder)
    gc.collect()
    live_mb = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    assert len(kept) == len(entries)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    phrasings = sum(1 + len(e.similar) for e in entries)
    model_name = encoder.name if encoder is not None else "none"
    print(
        f"{len(entries)} entries, {phrasings} phrasings (classifier: "
        f"{'yes' if learned else 'no'}; sentence model: {model_name}): build {build:.2f} s, "
        f"rebuild after an edit {rebuild:.2f} s ({encoded} texts encoded); "
        f"query p50 {p50:.2f} ms, p99 {p99:.2f} ms "
        f"over {len(queries)} queries; index memory {live_mb:.0f} MB (peak RSS of the run "
        f"{peak_mb:.0f} MB)"
    )
    if encoder is not None:
        print(
            f"same queries, words only, same run: p50 {words_p50:.2f} ms, p99 "
            f"{words_p99:.2f} ms (the sentence vector adds {p50 - words_p50:+.2f} ms p50, "
            f"{p99 - words_p99:+.2f} ms p99)"
        )


if __name__ == "__main__":
    main()
