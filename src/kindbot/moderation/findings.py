"""From lexicon hits to findings: allow-lists, pattern detectors, combination rules.

Pure functions over one :class:`Projection`. A :class:`Finding` is a
:class:`ScreeningMatch` plus how much it weighs: its outbound ``level`` and
whether it counts on inbound messages at all (a customer's own phone number
does not). Offsets in findings point into the original text.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from kindbot.core.screening import ContentCategory, ScreeningLevel, ScreeningMatch
from kindbot.moderation.compiled import Hit
from kindbot.moderation.lexicon import Combination, Role
from kindbot.moderation.projection import Projection

EXCERPT_LIMIT = 80

_LINK = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+|\b[a-z0-9-]{2,63}\.(?:com|cn|net|org|top|xyz|vip|cc|io|me|"
    r"club|shop|site|info|biz|link|app|online)\b[^\s<>\"']*",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"[¥￥$]\s*\d[\d,.]*|\d[\d,.]*\s*(?:元|块钱|块|万元|万|千元|rmb|美元|usd)", re.IGNORECASE
)
_MOBILE = re.compile(r"1[3-9][0-9]{9}")  # digits around it are checked by hand (speed)
_CONTACT_ID = re.compile(
    r"[^a-z0-9]{0,6}?([a-z][a-z_]{0,18}[0-9_][a-z0-9_]{0,18}|[1-9][0-9]{4,11})(?![0-9])"
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason: the match, its outbound level, and whether it counts inbound."""

    match: ScreeningMatch
    level: ScreeningLevel
    inbound: bool = True


@dataclass(frozen=True, slots=True)
class Cue:
    """A cue occurrence at normalised ``[start, end)`` (from a word or a detector)."""

    group: str
    text: str
    start: int
    end: int


def excerpt_match(
    p: Projection, category: ContentCategory, rule: str, term: str, start: int, end: int
) -> ScreeningMatch:
    """A match for normalised ``[start, end)``, with original offsets and excerpt."""
    lo, hi = p.span(start, end)
    return ScreeningMatch(category, rule, term, lo, hi, p.text[lo : min(hi, lo + EXCERPT_LIMIT)])


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return min(a_end, b_end) - max(a_start, b_start)


def suppress_allowed(hits: Sequence[Hit], protected_cues: frozenset[str]) -> list[Hit]:
    """Drop hits that an allow word overlaps by two characters (or entirely).

    A tenant's allow word never drops a protected platform word (a BLOCK
    term of gambling, pornography, fraud or drugs) nor a cue of a protected
    combination (``protected_cues``).
    """
    allows = [h for h in hits if h.word.role is Role.ALLOW]
    kept = []
    for hit in hits:
        if hit.word.role is Role.ALLOW:
            continue
        if any(_suppresses(allow, hit, protected_cues) for allow in allows):
            continue
        kept.append(hit)
    return kept


def _suppresses(allow: Hit, hit: Hit, protected_cues: frozenset[str]) -> bool:
    if allow.word.text == hit.word.text:  # the lexicon wants this word in another role
        return False
    if not allow.word.platform and (hit.word.protected or hit.word.cue in protected_cues):
        return False
    return _overlap(allow.start, allow.end, hit.start, hit.end) >= min(2, hit.end - hit.start)


def term_findings(p: Projection, hits: Iterable[Hit]) -> list[Finding]:
    """Findings of TERM hits (abuse counts inbound only; everything counts inbound)."""
    findings = []
    for hit in hits:
        word = hit.word
        if word.role is not Role.TERM or word.category is None:
            continue
        match = excerpt_match(p, word.category, hit.rule, word.text, hit.start, hit.end)
        findings.append(Finding(match, word.level, word.inbound))
    return findings


def word_cues(hits: Iterable[Hit]) -> list[Cue]:
    return [Cue(h.word.cue, h.word.text, h.start, h.end) for h in hits if h.word.role is Role.CUE]


MAX_PATTERN_CUES = 64
"""Links, amounts or numbers kept per searched stretch and kind (bounded work)."""

PATTERN_REACH = 400
"""Links and amounts are looked for this many characters around the cues they pair with."""


def pattern_cues(p: Projection, near: dict[str, list[Cue]]) -> list[Cue]:
    """Links and money amounts (in the original text) near ``near[group]``; mobile numbers.

    ``near`` maps ``link``/``money`` to the cues of the rules that need them:
    only the stretches of original text around those cues are searched, so a
    text padded with thousands of decoy links is still read where it matters.
    """
    cues = []
    for group, pattern in (("link", _LINK), ("money", _MONEY)):
        for lo, hi in _stretches(p, near.get(group, [])):
            found = list(itertools.islice(pattern.finditer(p.text, lo, hi), MAX_PATTERN_CUES))
            cues += _located(p, group, found)
    text = p.norm_text
    for m in itertools.islice(_MOBILE.finditer(text), MAX_PATTERN_CUES):
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if not before.isdigit() and not after.isdigit():
            cues.append(Cue("mobile", m.group(0), m.start(), m.end()))
    return cues


def _stretches(p: Projection, partners: list[Cue]) -> list[tuple[int, int]]:
    """Merged original-text stretches within :data:`PATTERN_REACH` of the partner cues."""
    spans = sorted(p.span(c.start, c.end) for c in partners[:MAX_PATTERN_CUES])
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        lo, hi = max(0, start - PATTERN_REACH), min(len(p.text), end + PATTERN_REACH)
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _located(p: Projection, group: str, found: list[re.Match[str]]) -> list[Cue]:
    if not found:
        return []
    edges = np.array([[m.start(), m.end()] for m in found], dtype=np.int64)
    starts = np.searchsorted(p.origin, edges[:, 0]).tolist()
    ends = np.searchsorted(p.origin, edges[:, 1]).tolist()
    return [
        Cue(group, m.group(0), start, end)
        for m, start, end in zip(found, starts, ends, strict=True)
        if start < end
    ]


def contact_findings(p: Projection, cues: Iterable[Cue]) -> list[Finding]:
    """An account id within six characters after a messaging-app cue (``微信号 abc_123``).

    One finding per cue position (the longest cue there). Inbound it is only
    flagged, like everything inbound, and not at all when the id is a mobile
    number (a customer giving their own).
    """
    findings = []
    text = p.norm_text
    done: set[int] = set()
    for cue in sorted(cues, key=lambda c: (c.start, c.start - c.end)):
        if cue.group != "channel" or cue.start in done:
            continue
        m = _CONTACT_ID.match(text, cue.end)
        if m is not None:
            done.add(cue.start)
            match = excerpt_match(
                p, ContentCategory.DIVERSION, "contact_id", cue.text, cue.start, m.end()
            )
            own_phone = _MOBILE.fullmatch(m.group(1)) is not None  # a customer's own number
            findings.append(Finding(match, ScreeningLevel.BLOCK, inbound=not own_phone))
    return findings


def mobile_findings(p: Projection, cues: Iterable[Cue]) -> list[Finding]:
    """A mobile number in outbound text: diversion candidate (flag; blocked when proactive)."""
    return [
        Finding(
            excerpt_match(p, ContentCategory.DIVERSION, "phone_number", c.text, c.start, c.end),
            ScreeningLevel.FLAG,
            inbound=False,
        )
        for c in cues
        if c.group == "mobile"
    ]


def _distance(a: Cue, b: Cue) -> int:
    return max(0, b.start - a.end, a.start - b.end)


def combination_findings(
    p: Projection, combinations: Iterable[Combination], cues: Sequence[Cue]
) -> list[Finding]:
    """The first complete occurrence of each combination (cues within its window)."""
    if not cues:
        return []
    by_group: dict[str, list[Cue]] = {}
    for cue in cues:
        by_group.setdefault(cue.group, []).append(cue)
    findings = []
    for rule in combinations:
        if not all(g in by_group for g in rule.groups):
            continue
        first, *others = sorted(rule.groups, key=lambda g: len(by_group[g]))
        for anchor in by_group[first]:
            chosen = _complete(anchor, [by_group[g] for g in others], rule.window)
            if chosen is None:
                continue
            parts = [anchor, *chosen]
            start, end = min(c.start for c in parts), max(c.end for c in parts)
            order = {g: i for i, g in enumerate(rule.groups)}
            parts.sort(key=lambda c: order[c.group])
            term = "+".join(dict.fromkeys(c.text for c in parts))
            match = excerpt_match(p, rule.category, rule.name, term, start, end)
            findings.append(Finding(match, rule.level, rule.inbound))
            break
    return findings


def _complete(anchor: Cue, groups: list[list[Cue]], window: int) -> list[Cue] | None:
    chosen = []
    for group in groups:
        near = [
            c
            for c in group
            if (c.start, c.end) != (anchor.start, anchor.end) and _distance(anchor, c) <= window
        ]
        if not near:
            return None
        chosen.append(min(near, key=lambda c: _distance(anchor, c)))
    return chosen
