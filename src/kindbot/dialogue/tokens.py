"""Turning a text into retrieval features (pure, deterministic).

:func:`tokenize` normalises the text (:func:`~kindbot.dialogue.normalize.normalize_text`:
NFKC, casefold, traditional → simplified) and emits prefixed features, so
that the families never collide:

* CJK runs: ``c:`` every character, ``b:`` every pair of adjacent characters
  (robust to segmentation errors and typos), and ``j:`` the words of rjieba's
  segmentation (jieba-rs) that are longer than one character (退款, 发票,
  运费险 carry more than their bigrams);
* letter/digit runs: ``w:`` the word's light stem (refunds, refunded,
  refunding → refund; :func:`stem`) and ``n:`` character 3- to 5-grams of
  the word padded with spaces (a misspelt word keeps most of them); ``p:``
  the stems of each pair of adjacent words ("credit limit", "not arrived":
  word order that single words lose; CLINC150 top-1 0.918 → 0.929);
* for every synonym term in the text (:class:`SynonymTable`), its group's
  ``g:`` feature and the features of the group's canonical term, so 快递,
  物流 and 包裹 share features.

Punctuation and symbols are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources

import rjieba

from kindbot.dialogue.normalize import normalize_text

__all__ = ["BUILTIN_SYNONYMS", "SynonymTable", "builtin_synonyms", "stem", "tokenize"]

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_RUNS = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+)")
_NGRAM_SIZES = (3, 4, 5)
_SUFFIXES = (
    ("ies", "y"),
    ("ied", "y"),
    ("ing", ""),
    ("ed", ""),
    ("es", ""),
    ("ly", ""),
    ("s", ""),
)
BUILTIN_SYNONYMS = "synonyms.txt"
"""Package data file (``kindbot/dialogue/data``) of the general customer-service lexicon."""


def stem(word: str) -> str:
    """A light English stem: one common suffix removed, keeping at least 3 letters.

    Only lowercase ASCII words of 4+ letters are touched; ``ss`` endings
    (address, pass) are kept. Deliberately simple: it only has to map a word's
    inflections onto one feature, not produce a dictionary form.
    """
    if len(word) < 4 or not word.isascii() or not word.isalpha() or word.endswith("ss"):
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + replacement
    return word


def _cjk_tokens(text: str) -> list[str]:
    tokens = [f"c:{ch}" for ch in text]
    tokens.extend(f"b:{text[i : i + 2]}" for i in range(len(text) - 1))
    return tokens


@dataclass(frozen=True, slots=True)
class SynonymTable:
    """Groups of interchangeable terms. Build with :meth:`from_groups`.

    Every term of a group brings the group's feature (``g:`` + the group's
    canonical term, its first in code-point order) and, when it is not the
    canonical term itself, the canonical term's own features (``c:``/``b:``/
    ``j:`` or ``w:``): so 先用后付 also looks like 花呗 to every ranker, in
    questions and phrasings alike. ``cjk_terms`` are matched as substrings of
    a CJK run, ``words`` as whole (stemmed) Latin words; a term in several
    groups gets the features of all of them.
    """

    cjk_terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lengths: tuple[int, ...] = ()
    """The distinct lengths of ``cjk_terms``, for substring look-ups."""

    @classmethod
    def from_groups(cls, groups: Iterable[Iterable[str]]) -> SynonymTable:
        """A table from groups of terms (normalised here); groups of < 2 terms are ignored.

        Latin terms must be single words (a term with a space or a symbol is
        matched as a CJK substring, so it only matters inside Chinese text).
        """
        cjk: dict[str, list[str]] = {}
        words: dict[str, list[str]] = {}
        for group in groups:
            terms = sorted({t for raw in group if (t := normalize_text(raw))})
            if len(terms) < 2:
                continue
            canonical = terms[0]
            latin = re.fullmatch(r"[a-z0-9]+", canonical) is not None
            extra = [f"w:{stem(canonical)}"] if latin else _cjk_tokens(canonical)
            if not latin and len(canonical) > 1:
                extra.append(f"j:{canonical}")
            for term in terms:
                features = [f"g:{canonical}"] + (extra if term != canonical else [])
                if re.fullmatch(r"[a-z0-9]+", term):
                    words.setdefault(stem(term), []).extend(features)
                else:
                    cjk.setdefault(term, []).extend(features)
        return cls._of(
            {t: tuple(dict.fromkeys(f)) for t, f in cjk.items()},
            {w: tuple(dict.fromkeys(f)) for w, f in words.items()},
        )

    @classmethod
    def _of(
        cls, cjk: dict[str, tuple[str, ...]], words: dict[str, tuple[str, ...]]
    ) -> SynonymTable:
        lengths = tuple(sorted({len(t) for t in cjk}))
        return cls(dict(sorted(cjk.items())), dict(sorted(words.items())), lengths)

    def merged(self, other: SynonymTable) -> SynonymTable:
        """A table with the groups of both (features of a term are united)."""
        cjk = dict(self.cjk_terms)
        for term, features in other.cjk_terms.items():
            cjk[term] = tuple(dict.fromkeys((*cjk.get(term, ()), *features)))
        words = dict(self.words)
        for word, features in other.words.items():
            words[word] = tuple(dict.fromkeys((*words.get(word, ()), *features)))
        return SynonymTable._of(cjk, words)

    def features_of_run(self, run: str) -> list[str]:
        """Group features of every CJK term contained in ``run``."""
        found: list[str] = []
        for size in self.lengths:
            for start in range(len(run) - size + 1):
                found.extend(self.cjk_terms.get(run[start : start + size], ()))
        return found


def parse_synonym_lines(text: str) -> list[tuple[str, ...]]:
    """Groups from a lexicon text: one group a line, terms separated by spaces,
    ``|`` or commas; ``#`` starts a comment."""
    groups: list[tuple[str, ...]] = []
    for line in text.splitlines():
        terms = tuple(t for t in re.split(r"[\s|,，]+", line.split("#", 1)[0]) if t)
        if len(terms) >= 2:
            groups.append(terms)
    return groups


@cache
def builtin_synonyms() -> SynonymTable:
    """The built-in general customer-service lexicon (read from package data)."""
    text = resources.files("kindbot.dialogue").joinpath("data", BUILTIN_SYNONYMS).read_text("utf-8")
    return SynonymTable.from_groups(parse_synonym_lines(text))


_MEMO_SIZE = 1 << 16


@lru_cache(maxsize=_MEMO_SIZE)
def _cjk_run_tokens(run: str) -> tuple[str, ...]:
    """Characters, bigrams and jieba words of one CJK run (memoised: runs recur)."""
    tokens = _cjk_tokens(run)
    if len(run) > 2:
        tokens.extend(f"j:{w}" for w in rjieba.cut(run) if len(w) > 1)
    return tuple(tokens)


@lru_cache(maxsize=_MEMO_SIZE)
def _word_tokens(word: str) -> tuple[str, ...]:
    """Stem and character n-grams of one Latin word (memoised: words recur)."""
    tokens = [f"w:{stem(word)}"]
    padded = f" {word} "
    for size in _NGRAM_SIZES:
        tokens.extend(f"n:{padded[i : i + size]}" for i in range(len(padded) - size + 1))
    return tuple(tokens)


def tokenize(text: str, synonyms: SynonymTable | None = None) -> list[str]:
    """The features of ``text`` (see the module docstring), in text order."""
    tokens: list[str] = []
    previous: str | None = None
    for run in _RUNS.finditer(normalize_text(text)):
        chunk = run.group()
        if run.lastgroup == "cjk":
            previous = None
            tokens.extend(_cjk_run_tokens(chunk))
            if synonyms is not None:
                tokens.extend(synonyms.features_of_run(chunk))
            continue
        word = _word_tokens(chunk)
        if previous is not None:
            tokens.append(f"p:{previous} {word[0][2:]}")
        previous = word[0][2:]
        tokens.extend(word)
        if synonyms is not None:
            tokens.extend(synonyms.words.get(word[0][2:], ()))
    return tokens
