"""Everyday Chinese words: the check that keeps sound-alike matching honest.

A sound-alike hit substitutes characters of a lexicon word with others of
the same syllable. When a substituted character belongs to an everyday
word of the text (收件人 in 收件人电话 is not 贱人; 津贴 in 用津贴 is not
佣金), or is a grammatical particle (吗, 的, 呢 …), the hit is a coincidence,
not an evasion. The word list is jieba's dictionary (words of two to four
characters seen at least :data:`MIN_FREQUENCY` times), read from the jieba
package's data file once per process.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jieba

MIN_FREQUENCY = 3
MAX_WORD = 4

PARTICLES = frozenset("的了吗嘛呢啊么呀哦哈我你他她它们这那得地着是件个只条张罐瓶盒箱份次元斤")
"""Characters an evader would not pick as a stand-in: particles, pronouns and
measure words are in every sentence (5件货 is not 贱货, 罐是 is not 莞式)."""


@cache
def everyday_words() -> frozenset[str]:
    """The word list (about 300,000 words; a second to read, then shared)."""
    path = Path(jieba.__file__).parent / "dict.txt"
    words = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            parts = line.split(" ", 2)
            if 2 <= len(parts[0]) <= MAX_WORD and len(parts) > 1 and int(parts[1]) >= MIN_FREQUENCY:
                words.append(parts[0])
    return frozenset(words)


def in_everyday_word(text: str, position: int, exclude: str) -> bool:
    """True when ``text[position]`` is a particle or in an everyday word other than ``exclude``."""
    if text[position] in PARTICLES:
        return True
    words = everyday_words()
    for size in range(2, MAX_WORD + 1):
        for start in range(max(0, position - size + 1), min(position, len(text) - size) + 1):
            word = text[start : start + size]
            if word != exclude and word in words:
                return True
    return False
