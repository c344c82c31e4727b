"""Writes ``labelled.tsv`` from ``seeds_bad.tsv`` and ``benign.tsv`` (deterministic).

Run ``.venv/bin/python tests/data/moderation/generate_labelled.py`` after
editing the seeds. Every bad seed yields its plain text plus evasion
variants of the [bracketed] signal: spaced, symbols, emoji and zero-width
characters between characters, full-width, traditional script, pinyin
(with and without tones and spaces), a same-sound character, and for Latin
words dots, homoglyphs and mixed case. Benign rows are kept as written plus
their traditional-script and full-width forms. Variants are made with
pypinyin and OpenCC directly, not with kindbot's own tables.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import opencc
from pypinyin import Style, lazy_pinyin

HERE = Path(__file__).parent
MARK = re.compile(r"\[([^\]]+)\]")
SEPARATORS = [" ", "·", "*", "|", "❤", "🌸", "\u200b", "-", "~", "。"]
HOMOGLYPHS = {"a": "а", "o": "о", "e": "е", "c": "с", "p": "р", "x": "х", "i": "і"}


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _homophones() -> dict[str, list[str]]:
    by_sound: dict[str, list[str]] = {}
    for code in range(0xB0A1, 0xD7FA):
        try:
            ch = code.to_bytes(2, "big").decode("gb2312")
        except UnicodeDecodeError:
            continue
        by_sound.setdefault(lazy_pinyin(ch)[0], []).append(ch)
    return by_sound


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _variants(text: str, rng: random.Random, sounds: dict[str, list[str]]) -> list[str]:
    spans = MARK.findall(text)
    plain = MARK.sub(r"\1", text)

    def each(change: object) -> str:
        return MARK.sub(lambda m: change(m.group(1)), text)  # type: ignore[operator]

    out = [plain]
    sep = rng.choice(SEPARATORS)
    out.append(each(lambda s: sep.join(s)))
    out.append(each(lambda s: rng.choice(SEPARATORS[1:]).join(s)))
    if any(c.isascii() and c.isalnum() for s in spans for c in s):
        out.append(_fullwidth(plain))
    if all(s.isascii() for s in spans):
        out.append(each(lambda s: ".".join(s)))
        out.append(each(lambda s: "".join(HOMOGLYPHS.get(c, c) for c in s)))
        out.append(each(lambda s: "".join(c.upper() if i % 2 else c for i, c in enumerate(s))))
        return out
    traditional = opencc.OpenCC("s2t").convert(plain)
    if traditional != plain:
        out.append(traditional)
    if any(sum(map(_is_han, s)) >= 2 for s in spans):
        out.append(each(lambda s: " ".join(lazy_pinyin(s)) if sum(map(_is_han, s)) >= 2 else s))
        out.append(each(lambda s: "".join(lazy_pinyin(s, style=Style.TONE))))
        out.append(each(lambda s: _homophone(s, rng, sounds)))
    return out


def _homophone(span: str, rng: random.Random, sounds: dict[str, list[str]]) -> str:
    positions = [i for i, c in enumerate(span) if _is_han(c)]
    if len(positions) < 2:
        return span
    i = rng.choice(positions)
    others = [c for c in sounds.get(lazy_pinyin(span[i])[0], []) if c != span[i]]
    return span if not others else span[:i] + rng.choice(others) + span[i + 1 :]


def _rows(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


def main() -> None:
    rng = random.Random(20261202)
    sounds = _homophones()
    s2t = opencc.OpenCC("s2t")
    rows: dict[str, tuple[str, str]] = {}
    for category, direction, text in _rows(HERE / "seeds_bad.tsv"):
        for variant in _variants(text, rng, sounds):
            rows.setdefault(variant, (category, direction))
    for direction, text in _rows(HERE / "benign.tsv"):
        for variant in dict.fromkeys([text, s2t.convert(text), _fullwidth(text)]):
            rows.setdefault(variant, ("ok", direction))
    lines = ["text\texpected\tdirection"]
    lines += [f"{t}\t{c}\t{d}" for t, (c, d) in rows.items() if "\t" not in t]
    (HERE / "labelled.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines) - 1} rows")


if __name__ == "__main__":
    main()
