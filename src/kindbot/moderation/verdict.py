"""The verdict of a set of findings in a context: a pure function.

Inbound (a contact wrote it): at most ``flag`` — the message is always
stored; findings that only matter outbound (a customer's own phone number or
account id) are dropped. Outbound (the bot or the tenant wrote it): abuse is
not screened; a ``block`` finding blocks; traffic diversion that is only
flagged in a reply (a phone number, another official account) is blocked in
proactive and group messages.
"""

from __future__ import annotations

from collections.abc import Iterable

from kindbot.core.screening import (
    ContentCategory,
    ContentContext,
    Direction,
    ScreeningLevel,
    ScreeningMatch,
    ScreeningVerdict,
)
from kindbot.moderation.findings import Finding

MAX_MATCHES = 64
"""Matches kept in a verdict (enough to explain it; bounds work on hostile input)."""


def _outbound_level(finding: Finding, context: ContentContext) -> ScreeningLevel:
    if finding.level is ScreeningLevel.BLOCK:
        return ScreeningLevel.BLOCK
    diversion = finding.match.category is ContentCategory.DIVERSION
    if diversion and (context.proactive or context.group):
        return ScreeningLevel.BLOCK
    return ScreeningLevel.FLAG


def decide(findings: Iterable[Finding], context: ContentContext) -> ScreeningVerdict:
    """The verdict for ``findings`` in ``context``; matches sorted by position, each once."""
    if context.direction is Direction.INBOUND:
        kept = [f for f in findings if f.inbound]
        levels = [ScreeningLevel.FLAG for _ in kept]
    else:
        kept = [f for f in findings if f.match.category is not ContentCategory.ABUSE]
        levels = [_outbound_level(f, context) for f in kept]
    if not kept:
        return ScreeningVerdict(ScreeningLevel.OK)
    level = ScreeningLevel.BLOCK if ScreeningLevel.BLOCK in levels else ScreeningLevel.FLAG
    matches = list(dict.fromkeys(f.match for f in kept))[:MAX_MATCHES]
    shown = [m for m in matches if not any(_inside(m, other) for other in matches)]
    ordered = sorted(shown, key=lambda m: (m.start, m.end, m.rule, m.term))
    return ScreeningVerdict(level, tuple(ordered))


def _inside(match: ScreeningMatch, other: ScreeningMatch) -> bool:
    """``match`` adds nothing beside ``other``: same category and rule, strictly within it."""
    return (
        match is not other
        and match.category is other.category
        and match.rule == other.rule
        and other.start <= match.start
        and match.end <= other.end
        and (other.start, other.end) != (match.start, match.end)
    )
