"""Search keys of a lexicon word: its characters, its sound, its pinyin spellings.

Every key is a sequence of 16-bit sound symbols (see
:mod:`kindbot.moderation.projection`). The character key of a word is its
own sound projection, so one pass over a text's sound projection finds both
exact occurrences and same-sound characters (伟信 for 微信); keys spelled
in Latin letters find pinyin (``weixin``, ``wei xin``, ``wēi xìn``, ``wei信``).
Readings come from pypinyin: each character's most common reading (what a
text's projection uses) and the word's phrase reading (银行 → ``yin hang``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from pypinyin import Style, lazy_pinyin

from kindbot.moderation.charmap import SYLLABLE_BASE, tables
from kindbot.moderation.projection import project

MAX_KEYS = 32
"""Spelling variants kept per word (mixes of characters and pinyin)."""

MAX_MIXED_SYLLABLES = 3
"""Longer words get only their character key and all-pinyin keys (no mixes)."""


@dataclass(frozen=True, slots=True)
class Key:
    """One spelling of a word: ``symbols`` to search, and how to judge a hit.

    ``latin_start``/``latin_end``: the key begins/ends with a Latin letter
    or digit (a hit there must not sit inside a longer Latin word unless
    ``loose``); ``pinyin``: some syllable is spelled in Latin letters.
    """

    symbols: tuple[int, ...]
    latin_start: bool
    latin_end: bool
    pinyin: bool
    loose: bool

    def encoded(self) -> bytes:
        return np.asarray(self.symbols, dtype=np.uint16).tobytes()


def _is_latin(symbol: int) -> bool:
    return symbol < 0x80


def _make_key(symbols: tuple[int, ...], pinyin: bool) -> Key:
    latin = sum(1 for s in symbols if _is_latin(s))
    return Key(
        symbols,
        latin_start=_is_latin(symbols[0]),
        latin_end=_is_latin(symbols[-1]),
        pinyin=pinyin,
        loose=pinyin and latin >= 6,
    )


def _options(symbol: int, norm_char: str, phrase_reading: str) -> list[tuple[int, ...]]:
    """The spellings of one position: its sound symbol, and its pinyin in Latin letters."""
    t = tables()
    if symbol < SYLLABLE_BASE or symbol >= SYLLABLE_BASE + len(t.syllables):
        return [(symbol,)]
    default = t.syllables[symbol - SYLLABLE_BASE]
    readings = dict.fromkeys([default, phrase_reading.replace("ü", "v")])
    options: list[tuple[int, ...]] = [(symbol,)]
    for reading in readings:
        if reading in t.syllable_of and reading != default:
            options.append((SYLLABLE_BASE + t.syllable_of[reading],))
        if reading.isascii() and reading.isalpha():
            options.append(tuple(ord(c) for c in reading))
    return options


def syllable_count(symbols: tuple[int, ...]) -> int:
    """How many Han syllables a symbol sequence holds."""
    return sum(1 for s in symbols if s >= SYLLABLE_BASE)


def _phrase_readings(text: str, symbols: tuple[int, ...]) -> list[str]:
    """pypinyin's in-context reading of each Han character ("" for other positions)."""
    han = [i for i, s in enumerate(symbols) if s >= SYLLABLE_BASE]
    readings = lazy_pinyin("".join(text[i] for i in han), style=Style.NORMAL)
    out = [""] * len(symbols)
    if len(readings) == len(han):
        for i, reading in zip(han, readings, strict=True):
            out[i] = reading
    return out


def word_keys(text: str, sound: bool) -> tuple[tuple[int, ...], tuple[Key, ...]]:
    """The normalised code points of ``text`` and its search keys.

    Without ``sound`` (or with fewer than two Han syllables) the only key is
    the character key; sound-alike matching is then still possible in the
    automaton, and is refused when judging hits (see ``findings``).
    """
    projection = project(text)
    norm = tuple(int(c) for c in projection.norm)
    symbols = tuple(int(s) for s in np.frombuffer(projection.sound16, dtype=np.uint16))
    if not symbols:
        return norm, ()
    base = _make_key(symbols, pinyin=False)
    if not sound or syllable_count(symbols) < 2:
        return norm, (base,)
    phrase = _phrase_readings(projection.norm_text, symbols)
    options = [_options(s, chr(c), r) for s, c, r in zip(symbols, norm, phrase, strict=True)]
    keys = {base.symbols: base}
    spelled = [[o for o in opts if len(o) > 1 or _is_latin(o[0])] or opts for opts in options]
    for reading in (0, -1):  # every syllable in pinyin: default readings, phrase readings
        flat = tuple(itertools.chain.from_iterable(opts[reading] for opts in spelled))
        keys.setdefault(flat, _make_key(flat, pinyin=True))
    if syllable_count(symbols) > MAX_MIXED_SYLLABLES:
        return norm, tuple(keys.values())
    for combo in itertools.islice(itertools.product(*options), MAX_KEYS * 4):
        flat = tuple(itertools.chain.from_iterable(combo))
        pinyin = any(len(part) > 1 or _is_latin(part[0]) for part in combo) and flat != symbols
        keys.setdefault(flat, _make_key(flat, pinyin=pinyin))
        if len(keys) >= MAX_KEYS:
            break
    return norm, tuple(keys.values())
