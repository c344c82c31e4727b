"""Which language to answer in, judged from text alone.

Contract-level helper: imports nothing of ours.
"""

from __future__ import annotations

import unicodedata


def looks_chinese(text: str) -> bool:
    """True when ``text`` contains any CJK unified ideograph."""
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def pick(text: str, zh: str, en: str, *, default_zh: bool = True) -> str:
    """``zh`` for Chinese text, ``en`` for Latin letters (full-width too), else the default."""
    if looks_chinese(text):
        return zh
    if any(ch.isascii() and ch.isalpha() for ch in unicodedata.normalize("NFKC", text)):
        return en
    return zh if default_zh else en
