"""Moderation throughput: MB/s of Chinese text per core with a 20,000-term lexicon.

The lexicon is the shipped platform lexicon plus synthetic terms (3–5
random common characters, deterministic seed) up to ``--terms`` words; every
word gets its sound-alike and pinyin keys as in production. The text is
synthetic Chinese (common characters, punctuation, some Latin and digits,
and now and then a lexicon term, deterministic seed), UTF-8 size counted.
One process, one thread; timings include normalisation, the automaton pass,
the rules and the verdict.

Side by side, in the same run: a naive matcher — one regular expression
alternating all terms over the raw text (no normalisation, so it would miss
every evasion) — and, when ``pyahocorasick`` is importable, its automaton
over the normalised characters (the library the first design used).

    .venv/bin/python bench/moderation_speed.py [--mb 8] [--terms 20000]
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections.abc import Callable

from kindbot.core.screening import ContentCategory, ContentContext, Direction, ScreeningLevel
from kindbot.moderation.compiled import CompiledLexicon
from kindbot.moderation.lexicon import Lexicon, LexiconWord, Role, platform_lexicon
from kindbot.moderation.projection import normalise
from kindbot.moderation.screener import LexiconScreener

REPLY = ContentContext(Direction.OUTBOUND)


def common_characters() -> list[str]:
    chars = []
    for code in range(0xB0A1, 0xD7FA):
        try:
            chars.append(code.to_bytes(2, "big").decode("gb2312"))
        except UnicodeDecodeError:
            continue
    return chars


def synthetic_lexicon(total: int, chars: list[str]) -> Lexicon:
    base = platform_lexicon()
    rng = random.Random(5)
    words = list(base.words)
    seen = {w.text for w in words}
    while sum(1 for w in words if w.role is Role.TERM) < total:
        text = "".join(rng.choice(chars) for _ in range(rng.randint(3, 5)))
        if text not in seen:
            seen.add(text)
            words.append(LexiconWord(text, Role.TERM, ContentCategory.FRAUD, ScreeningLevel.BLOCK))
    return Lexicon(tuple(words), base.combinations)


def synthetic_text(megabytes: float, chars: list[str], terms: list[str]) -> str:
    rng = random.Random(7)
    common = chars[:1500]
    parts: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        sentence = "".join(rng.choice(common) for _ in range(rng.randint(8, 30)))
        if rng.random() < 0.002:
            sentence += rng.choice(terms)
        if rng.random() < 0.1:
            sentence += f" 订单{rng.randint(10000, 99999)} ok"
        sentence += rng.choice("，。！？ ")
        parts.append(sentence)
        size += len(sentence.encode())
    return "".join(parts)


def rate(label: str, megabytes: float, run: Callable[[], object]) -> float:
    """MB/s per core: CPU time of this (single-threaded) process, so other load on
    the machine does not count; wall-clock MB/s is printed beside it."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    speed = megabytes / cpu
    print(
        f"{label:58} {megabytes:6.2f} MB: {speed:8.2f} MB/s per core (CPU {cpu:6.3f} s; "
        f"wall {megabytes / wall:7.2f} MB/s)"
    )
    return speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=8.0, help="MB of text for kindbot")
    parser.add_argument("--regex-mb", type=float, default=0.25, help="MB for the naive regex")
    parser.add_argument("--terms", type=int, default=20_000)
    args = parser.parse_args()

    chars = common_characters()
    lexicon = synthetic_lexicon(args.terms, chars)
    terms = [w.text for w in lexicon.terms()]
    started = time.perf_counter()
    screener = LexiconScreener(CompiledLexicon(lexicon))
    print(f"lexicon: {len(terms)} terms ({len(lexicon.words)} words with cues and allow words)")
    print(f"compiled in {time.perf_counter() - started:.1f} s (one-off; cached per process)")
    text = synthetic_text(args.mb, chars, terms)
    mb = len(text.encode()) / 1e6
    chunks = [text[i : i + 20_000] for i in range(0, len(text), 20_000)]
    messages = [text[i : i + 200] for i in range(0, len(text) // 8, 200)]
    msg_mb = sum(len(m.encode()) for m in messages) / 1e6
    screener.screen(text[:1000], REPLY)  # warm caches

    rate(
        "kindbot: 20,000-character documents",
        mb,
        lambda: [screener.screen(c, REPLY) for c in chunks],
    )
    rate(
        "kindbot: 200-character messages",
        msg_mb,
        lambda: [screener.screen(m, REPLY) for m in messages],
    )
    rate("kindbot: normalisation only (documents)", mb, lambda: [normalise(c) for c in chunks])

    sample = text[: int(args.regex_mb * 1_000_000 / 3)]
    naive = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))
    sample_mb = len(sample.encode()) / 1e6
    rate("naive regex alternation over raw text (no normalisation)", sample_mb,
         lambda: naive.findall(sample))  # fmt: skip
    try:
        import ahocorasick  # type: ignore[import-not-found]
    except ImportError:
        print("pyahocorasick not installed: its comparison line is skipped")
        return
    automaton = ahocorasick.Automaton()
    for term in terms:
        automaton.add_word(normalise(term), term)
    automaton.make_automaton()
    folded = [normalise(c) for c in chunks]
    rate("pyahocorasick pass over normalised text (pass only)", mb,
         lambda: [list(automaton.iter(f)) for f in folded])  # fmt: skip


if __name__ == "__main__":
    main()
