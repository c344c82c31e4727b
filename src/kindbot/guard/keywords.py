"""Opt-out and opt-in keywords (DESIGN.md §5, rule ``opt_out``).

A message counts only when it consists of nothing but one keyword, compared
after Unicode NFKC (full-width → half-width), case folding and trimming of
whitespace and trailing punctuation — so "ＳＴＯＰ", "stop!" and " 退订 " opt
out, but "how do I stop my order" does not.
"""

from __future__ import annotations

import unicodedata

OPT_OUT_WORDS = frozenset({"退订", "td", "t", "取消订阅", "stop", "unsubscribe"})
OPT_IN_WORDS = frozenset({"订阅", "start"})

_TRAILING = " \t\r\n.!?。！？~～"


def canonical_keyword(text: str) -> str:
    """The form keywords are compared in: NFKC, casefolded, trimmed."""
    return unicodedata.normalize("NFKC", text).casefold().strip(_TRAILING)


def is_opt_out(text: str) -> bool:
    """True when the whole message is an opt-out keyword."""
    return canonical_keyword(text) in OPT_OUT_WORDS


def is_opt_in(text: str) -> bool:
    """True when the whole message is an explicit re-subscription keyword."""
    return canonical_keyword(text) in OPT_IN_WORDS
