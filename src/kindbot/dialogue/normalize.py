"""Text normalisation shared by knowledge-base indexing, querying and ids.

:func:`normalize_text` is pure and deterministic: the same input always gives
the same output, on every machine, so it is safe to derive stable ids from it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Protocol

import opencc

_WHITESPACE = re.compile(r"\s+")


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


@cache
def _t2s() -> _Converter:
    """The traditional → simplified converter, created on first use only."""
    converter: _Converter = opencc.OpenCC("t2s")
    return converter


def normalize_text(text: str) -> str:
    """Return ``text`` in the canonical form used for matching.

    Steps, in order: Unicode NFKC (full-width letters, digits and punctuation
    become their half-width forms), casefold, traditional → simplified Chinese
    (OpenCC ``t2s``), runs of whitespace collapsed to one space, ends stripped.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    if text and not text.isascii():
        text = _t2s().convert(text)
    return _WHITESPACE.sub(" ", text).strip()
