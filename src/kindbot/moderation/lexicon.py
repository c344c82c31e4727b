"""Lexicon data: terms, allow-list words, cue words and combination rules.

The platform lexicon ships as package data (``data/lexicon.yaml``,
``data/allow.tsv``); the operator and tenants add terms in the database
(:class:`kindbot.core.records.moderation.ModerationTerm`). Everything here is plain frozen
data; :mod:`kindbot.moderation.compiled` turns it into automata.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import yaml

from kindbot.core.records.moderation import ModerationTerm, TermAction
from kindbot.core.screening import ContentCategory, ScreeningLevel

PROTECTED = frozenset(
    {
        ContentCategory.GAMBLING,
        ContentCategory.PORNOGRAPHY,
        ContentCategory.FRAUD,
        ContentCategory.DRUGS,
    }
)
"""Categories whose platform BLOCK terms no tenant can allow away."""


PSEUDO_CUES = frozenset({"link", "money", "mobile"})
"""Cue groups filled by pattern detectors instead of lexicon words."""


class Role(StrEnum):
    """What a lexicon word does when found."""

    TERM = "term"  # a finding by itself
    CUE = "cue"  # counts only inside a combination rule
    ALLOW = "allow"  # suppresses findings it overlaps


@dataclass(frozen=True, slots=True)
class LexiconWord:
    """One word of a lexicon.

    ``level`` is the outbound level of a TERM (inbound findings are at most
    ``flag``); ``cue`` names the cue group of a CUE; ``sound`` enables
    sound-alike and pinyin matching (only for words of at least two Han
    characters); ``platform`` is False for a tenant's own words;
    ``homophones`` False: pinyin spellings match, same-sound characters do
    not (context words that nobody disguises by homophones, and that would
    otherwise meet chance homophones everywhere). ``inbound`` False: the
    word matters only in outbound text (a customer
    asking "can I add you on WeChat?" is not diverting traffic).
    """

    text: str
    role: Role
    category: ContentCategory | None = None
    level: ScreeningLevel = ScreeningLevel.BLOCK
    cue: str = ""
    sound: bool = True
    platform: bool = True
    inbound: bool = True
    homophones: bool = True

    @property
    def protected(self) -> bool:
        """A platform BLOCK term of a protected category (no tenant may allow it away)."""
        return (
            self.platform
            and self.role is Role.TERM
            and self.level is ScreeningLevel.BLOCK
            and self.category in PROTECTED
        )


@dataclass(frozen=True, slots=True)
class Combination:
    """A finding when one cue of every group occurs within ``window`` characters.

    ``window`` counts normalised characters between the first cue's end and
    the last cue's start.
    """

    name: str
    category: ContentCategory
    level: ScreeningLevel
    window: int
    groups: tuple[str, ...]
    inbound: bool = True

    @property
    def protected(self) -> bool:
        return self.level is ScreeningLevel.BLOCK and self.category in PROTECTED


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Words and combination rules; ``merged`` adds another lexicon's words."""

    words: tuple[LexiconWord, ...]
    combinations: tuple[Combination, ...] = ()

    def merged(self, extra: tuple[LexiconWord, ...]) -> Lexicon:
        return Lexicon(self.words + extra, self.combinations)

    def terms(self) -> tuple[LexiconWord, ...]:
        return tuple(w for w in self.words if w.role is Role.TERM)

    def cue_names(self) -> frozenset[str]:
        return frozenset(w.cue for w in self.words if w.role is Role.CUE)


def _category_words(data: dict[str, Any]) -> list[LexiconWord]:
    words: list[LexiconWord] = []
    for name, levels in data.get("categories", {}).items():
        category = ContentCategory(name)
        for level_name, items in levels.items():
            if level_name == "outbound_only":
                words += _level_words(category, items, inbound=False)
            else:
                words += _level_words(category, {level_name: items}, inbound=True)
    return words


def _level_words(
    category: ContentCategory, levels: dict[str, list[str]], *, inbound: bool
) -> list[LexiconWord]:
    words = []
    for level_name, items in levels.items():
        level = ScreeningLevel(level_name)
        for item in items:
            text, sound = _sound_marker(str(item))
            words.append(
                LexiconWord(text, Role.TERM, category, level, sound=sound, inbound=inbound)
            )
    return words


def _sound_marker(item: str) -> tuple[str, bool]:
    """``"=word"`` in the data files: match the characters exactly, no sound-alikes."""
    return (item[1:], False) if item.startswith("=") else (item, True)


def _cue_words(data: dict[str, Any]) -> list[LexiconWord]:
    """Cue words; groups in ``exact_cue_groups`` match no same-sound characters (pinyin yes)."""
    exact = set(data.get("exact_cue_groups", []))
    words = []
    for cue, items in data.get("cues", {}).items():
        for item in items:
            text, sound = _sound_marker(str(item))
            words.append(
                LexiconWord(text, Role.CUE, cue=str(cue), sound=sound, homophones=cue not in exact)
            )
    return words


def _combinations(data: dict[str, Any]) -> tuple[Combination, ...]:
    return tuple(
        Combination(
            name=str(c["name"]),
            category=ContentCategory(c["category"]),
            level=ScreeningLevel(c["level"]),
            window=int(c["window"]),
            groups=tuple(str(g) for g in c["groups"]),
            inbound=bool(c.get("inbound", True)),
        )
        for c in data.get("combinations", [])
    )


def _allow_words(text: str) -> list[LexiconWord]:
    words = []
    for line in text.splitlines():
        term = line.split("\t", 1)[0].strip()
        if term and not term.startswith("#"):
            words.append(LexiconWord(term, Role.ALLOW, sound=False))
    return words


def parse_lexicon(lexicon_yaml: str, allow_tsv: str) -> Lexicon:
    """Build a lexicon from the text of a lexicon YAML file and an allow-list TSV.

    Raises ``ValueError`` (or ``KeyError``) on an unknown category, level or
    cue group.
    """
    data = yaml.safe_load(lexicon_yaml) or {}
    words = _category_words(data) + _cue_words(data) + _allow_words(allow_tsv)
    lexicon = Lexicon(tuple(words), _combinations(data))
    named = {g for c in lexicon.combinations for g in c.groups}
    unknown = named - lexicon.cue_names() - PSEUDO_CUES
    if unknown:
        raise ValueError(f"combination rules name unknown cue groups: {sorted(unknown)}")
    return lexicon


@cache
def platform_lexicon() -> Lexicon:
    """The lexicon shipped with kindbot (package data; read once per process)."""
    data = resources.files("kindbot.moderation.data")
    return parse_lexicon(
        data.joinpath("lexicon.yaml").read_text(encoding="utf-8"),
        data.joinpath("allow.tsv").read_text(encoding="utf-8"),
    )


def words_from_terms(terms: Iterable[ModerationTerm]) -> tuple[LexiconWord, ...]:
    """Stored lexicon edits as words (platform edits when ``tenant_id`` is None).

    ``deny`` → a BLOCK term, ``flag`` → a FLAG term, ``allow`` → an allow word.
    Terms whose category is unknown are skipped (the CLI validates on entry).
    """
    words = []
    for term in terms:
        platform = term.tenant_id is None
        if term.action is TermAction.ALLOW:
            words.append(LexiconWord(term.term, Role.ALLOW, sound=False, platform=platform))
            continue
        try:
            category = ContentCategory(term.category or "")
        except ValueError:
            continue
        level = ScreeningLevel.BLOCK if term.action is TermAction.DENY else ScreeningLevel.FLAG
        words.append(LexiconWord(term.term, Role.TERM, category, level, platform=platform))
    return tuple(words)
