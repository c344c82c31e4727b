"""A lexicon compiled into one Aho-Corasick automaton over sound symbols.

:meth:`CompiledLexicon.hits` runs one pass over a text's sound projection
and judges each raw hit: an exact occurrence (rule ``lexicon``), same-sound
characters (``sound_alike``) or a pinyin spelling (``pinyin``). Sound-alike
hits need a word of at least two syllables, and a hit made only of
substituted characters is refused when every syllable of the word is a very
common one (many characters share it, so chance hits are likely).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import ahocorasick_rs
import numpy as np

from kindbot.moderation.charmap import tables
from kindbot.moderation.keys import Key, syllable_count, word_keys
from kindbot.moderation.lexicon import Lexicon, LexiconWord, Role
from kindbot.moderation.projection import Projection
from kindbot.moderation.words import everyday_words, in_everyday_word

MAX_HITS = 256
"""Accepted hits per lexicon and text; beyond them the verdict cannot change (bounded time)."""

COMMON_SYLLABLE_CHARS = 30
"""A syllable shared by this many of the 3,755 most common characters is 'very common'."""


@cache
def common_syllables() -> frozenset[int]:
    """Sound symbols of the very common syllables (ji, yi, shi, wei …)."""
    t = tables()
    counts: dict[int, int] = {}
    for code in range(0xB0A1, 0xD7FA):
        try:
            ch = code.to_bytes(2, "big").decode("gb2312")
        except UnicodeDecodeError:
            continue
        symbol = int(t.sound[ord(ch)])
        counts[symbol] = counts.get(symbol, 0) + 1
    return frozenset(s for s, n in counts.items() if n >= COMMON_SYLLABLE_CHARS)


@dataclass(frozen=True, slots=True)
class Hit:
    """A judged occurrence of ``word`` at normalised ``[start, end)``."""

    word: LexiconWord
    start: int
    end: int
    rule: str


@dataclass(frozen=True, slots=True)
class _Ref:
    word: int
    key: Key


class CompiledLexicon:
    """Immutable after construction; safe to share between tasks."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._words = lexicon.words
        self._norms: list[str] = []
        patterns: dict[bytes, list[_Ref]] = {}
        self._singles: dict[str, list[int]] = {}
        for index, word in enumerate(self._words):
            norm, keys = word_keys(word.text, word.sound)
            self._norms.append("".join(map(chr, norm)))
            if len(norm) == 1:  # one character: found exactly, by str.find (no chance homophones)
                self._singles.setdefault(chr(norm[0]), []).append(index)
                continue
            for key in keys:
                patterns.setdefault(key.encoded(), []).append(_Ref(index, key))
        self._refs = list(patterns.values())
        self._automaton = ahocorasick_rs.BytesAhoCorasick(list(patterns)) if patterns else None
        self._common = common_syllables()
        everyday_words()  # read now, while compiling, not during the first screening

    def __len__(self) -> int:
        return len(self._words)

    def hits(self, p: Projection) -> list[Hit]:
        """Every accepted occurrence of a word in ``p`` (overlapping ones included).

        At most about :data:`MAX_HITS` per kind of word, so hostile input
        (one term repeated a million times) is screened in bounded time.
        """
        if len(p) == 0:
            return []
        found = self._single_hits(p)
        if self._automaton is None:
            return found
        seen: set[tuple[int, int, int]] = set()
        limit = len(found) + MAX_HITS
        for pattern, byte_start, byte_end in self._automaton.find_matches_as_indexes(
            p.sound16, overlapping=True
        ):
            if byte_start % 2:
                continue
            start, end = byte_start // 2, byte_end // 2
            for ref in self._refs[pattern]:
                rule = self._judge(ref, p, start, end)
                if rule is not None and (ref.word, start, end) not in seen:
                    seen.add((ref.word, start, end))
                    found.append(Hit(self._words[ref.word], start, end, rule))
            if len(found) >= limit:
                break
        return found

    def _single_hits(self, p: Projection) -> list[Hit]:
        found: list[Hit] = []
        text = p.norm_text
        for char, indexes in self._singles.items():
            at = text.find(char)
            while at >= 0 and len(found) < MAX_HITS:
                found += [Hit(self._words[i], at, at + 1, "lexicon") for i in indexes]
                at = text.find(char, at + 1)
        return found

    def _judge(self, ref: _Ref, p: Projection, start: int, end: int) -> str | None:
        key, word, norm = ref.key, self._words[ref.word], self._norms[ref.word]
        if not key.loose and not _stands_alone(key, p, start, end):
            return None
        if p.norm_text[start:end] == norm:
            return "lexicon"
        if not word.sound:
            return None
        if key.pinyin:
            return "pinyin"
        if not word.homophones or syllable_count(key.symbols) < 2:
            return None
        return "sound_alike" if self._plausible_evasion(word, norm, p, start, end) else None

    def _plausible_evasion(
        self, word: LexiconWord, norm: str, p: Projection, start: int, end: int
    ) -> bool:
        """Same-sound characters stand in for ``word`` at ``[start, end)``: deliberate or chance?

        Chance when the hit is spread over removed separators (``呀 骗`` is
        not 鸦片), when every syllable is very common and no character is
        the word's own, or — for terms, which count on their own — when a
        stand-in character belongs to an everyday word of the text or is a
        particle (see :mod:`kindbot.moderation.words`).
        """
        found = p.norm_text[start:end]
        if any(p.gap_before(i) for i in range(start + 1, end)):
            return False
        substituted = [i for i, (a, b) in enumerate(zip(found, norm, strict=True)) if a != b]
        symbols = np.frombuffer(p.sound16, dtype=np.uint16)[start:end].tolist()
        if len(substituted) == len(norm) and all(s in self._common for s in symbols):
            return False
        if word.role is Role.CUE:  # a cue only counts beside another cue: chance is rare
            return True
        text = p.norm_text
        return not any(in_everyday_word(text, start + i, word.text) for i in substituted)


def _stands_alone(key: Key, p: Projection, start: int, end: int) -> bool:
    """A Latin edge of a hit must not continue a Latin word (``sex`` in ``essex``)."""
    text = p.norm_text
    if key.latin_start and not p.gap_before(start) and text[start - 1].isascii():
        return False
    return not (key.latin_end and not p.gap_after(end - 1) and text[end].isascii())
