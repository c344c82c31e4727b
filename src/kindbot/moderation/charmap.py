"""Per-code-point folding tables: the whole normalisation as array look-ups.

Each table is a NumPy array indexed by code point (up to :data:`LIMIT`), so a
text is normalised with one gather instead of a Python loop per character.
Built once per process on first use (pure data, derived deterministically
from Unicode, OpenCC and pypinyin; no I/O besides their packaged data).

Folding of one code point, in order: NFKC (full-width and styled digits and
letters such as ``０ ① 𝟏 Ａ`` become ASCII), case folding, diacritics
stripped from Latin letters (``ē`` → ``e``, so toned pinyin matches), common
homoglyphs (Cyrillic and Greek look-alikes of Latin letters), traditional →
simplified Chinese (OpenCC ``t2s``, character by character), ``+``-signs to
``加`` (``+V``, ``➕微`` mean "add"). Separators, punctuation, symbols, emoji,
marks, control, format (zero-width) and private-use characters fold to
nothing.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Protocol

import numpy as np
import numpy.typing as npt
import opencc

LIMIT = 0x30000
"""Code points at or above this fold to nothing (tags, planes 3–16: invisible or unused)."""

WIDTH = 3
"""A code point folds to at most this many characters (``㎏`` → ``kg``)."""

SYLLABLE_BASE = 0xE000
"""Sound projection: a Han character becomes ``SYLLABLE_BASE + id`` of its toneless syllable."""

U32 = npt.NDArray[np.uint32]

_DROP_CATEGORIES = frozenset("ZPSCM")
_PLUS_SIGNS = "+＋➕﹢⊕"
_HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "ɡ": "g", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i",
    "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    "〇": "0", "ℓ": "l",
}  # fmt: skip


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


@dataclass(frozen=True, slots=True)
class FoldTables:
    """``fold[cp]``: up to :data:`WIDTH` code points (0 = none) that ``cp`` folds to.

    ``single[cp]``: the first column, used when no character of a text
    expands (``expands[cp]`` false for all). ``sound[cp]`` maps a folded
    code point to its 16-bit sound symbol: a Han character to its syllable
    symbol, anything else to itself (0xFFFF beyond the BMP).
    ``syllables[i]`` is the toneless pinyin of symbol ``SYLLABLE_BASE + i``.
    """

    fold: U32
    single: U32
    expands: npt.NDArray[np.bool_]
    sound: npt.NDArray[np.uint16]
    syllables: tuple[str, ...]
    syllable_of: dict[str, int]


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold_char(ch: str) -> str:
    """The folding of one character, before traditional → simplified (see module doc)."""
    if ch in _PLUS_SIGNS:
        return "加"
    out = []
    for c in unicodedata.normalize("NFKC", ch).casefold():
        c = _HOMOGLYPHS.get(c, c)
        if not c.isascii():
            base = _strip_marks(c)
            if len(base) == 1 and base.isascii() and base.isalpha():
                c = base
        if c.isascii():
            if c.isalnum():
                out.append(c)
        elif unicodedata.category(c)[0] not in _DROP_CATEGORIES:
            out.append(c)
    return "".join(out)


_UNIFIED_HAN = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0x20000, 0x2A6E0))


def _han_code_points() -> list[int]:
    ranges = (*_UNIFIED_HAN, (0xF900, 0xFB00))
    return [cp for lo, hi in ranges for cp in range(lo, hi)]


def _t2s_map(converter: _Converter) -> dict[int, int]:
    """Character-level traditional → simplified pairs (phrase rules kept out by newlines)."""
    han = [chr(cp) for cp in _han_code_points()]
    converted = converter.convert("\n".join(han)).split("\n")
    if len(converted) != len(han):  # a phrase rule joined lines; fall back to one by one
        converted = [converter.convert(ch) for ch in han]
    return {ord(a): ord(b) for a, b in zip(han, converted, strict=True) if len(b) == 1 and a != b}


def _syllable_table() -> tuple[dict[int, str], tuple[str, ...]]:
    from pypinyin.constants import PINYIN_DICT

    readings: dict[int, str] = {}
    for cp, value in PINYIN_DICT.items():
        first = _strip_marks(str(value).split(",")[0]).replace("ü", "v")
        if first.isascii() and first.isalpha():
            readings[int(cp)] = first
    return readings, tuple(sorted(set(readings.values())))


@cache
def tables() -> FoldTables:
    """The folding tables (built on first call, about a second; then shared, immutable)."""
    fold = np.zeros((LIMIT, WIDTH), dtype=np.uint32)
    t2s = _t2s_map(opencc.OpenCC("t2s"))
    for lo, hi in _UNIFIED_HAN:  # NFKC leaves unified ideographs alone: only t2s applies
        fold[lo:hi, 0] = np.arange(lo, hi, dtype=np.uint32)
    for cp, simplified in t2s.items():
        fold[cp, 0] = simplified
    for cp in range(0x20, LIMIT):
        if 0xD800 <= cp < 0xE000 or any(lo <= cp < hi for lo, hi in _UNIFIED_HAN):
            continue
        folded = "".join(chr(t2s.get(ord(c), ord(c))) for c in fold_char(chr(cp)))
        for i, c in enumerate(folded[:WIDTH]):
            fold[cp, i] = ord(c)
    readings, syllables = _syllable_table()
    syllable_of = {s: i for i, s in enumerate(syllables)}
    sound = np.minimum(np.arange(LIMIT, dtype=np.uint32), 0xFFFF).astype(np.uint16)
    for cp, reading in readings.items():
        if cp < LIMIT:
            sound[cp] = SYLLABLE_BASE + syllable_of[reading]
    expands = fold[:, 1] != 0
    single = np.ascontiguousarray(fold[:, 0])
    return FoldTables(fold, single, expands, sound, syllables, syllable_of)
