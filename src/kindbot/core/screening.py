"""Content screening contract: what the guard asks moderation and what it gets back.

Contract module: imports nothing of ours. The guard's ``content`` rule and
inbound handling depend only on these types; :mod:`kindbot.moderation`
implements :class:`Screener`, and the composition root hands a
:class:`ScreenerSource` to the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class ContentCategory(StrEnum):
    """The prohibited categories (DESIGN.md §5 ``content``; abuse only matters inbound)."""

    GAMBLING = "gambling"
    PORNOGRAPHY = "pornography"
    FRAUD = "fraud"
    DRUGS = "drugs"
    DIVERSION = "diversion"
    ABUSE = "abuse"


class Direction(StrEnum):
    """Who wrote the text: a contact (inbound) or the bot / tenant (outbound)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class ScreeningLevel(StrEnum):
    """``ok``: nothing found; ``flag``: suspicious, recorded; ``block``: must not be sent."""

    OK = "ok"
    FLAG = "flag"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class ContentContext:
    """Where a text is going or coming from; direction and purpose change the verdict.

    ``proactive``: a message the contact did not ask for (campaign, reminder);
    ``group``: said in a group chat. Diversion (personal WeChat ids, QR codes,
    other groups) is blocked outbound in proactive and group messages.
    ``tenant_id`` selects the tenant's own allow/deny terms (None: platform only).
    """

    direction: Direction
    proactive: bool = False
    group: bool = False
    tenant_id: str | None = None


@dataclass(frozen=True, slots=True)
class ScreeningMatch:
    """One reason for a verdict, pointing into the *original* text.

    ``rule`` names the detector (``lexicon``, ``sound_alike``, ``combination``,
    ``contact_id`` …); ``term`` is the lexicon term or pattern that matched;
    ``start``/``end`` are offsets into the text as given (``text[start:end]``
    is ``excerpt``).
    """

    category: ContentCategory
    rule: str
    term: str
    start: int
    end: int
    excerpt: str


@dataclass(frozen=True, slots=True)
class ScreeningVerdict:
    """The outcome of screening one text; ``matches`` explain it (empty when ``ok``)."""

    level: ScreeningLevel
    matches: tuple[ScreeningMatch, ...] = ()

    @property
    def categories(self) -> tuple[ContentCategory, ...]:
        """The categories of the matches, each once, in order of first appearance."""
        return tuple(dict.fromkeys(match.category for match in self.matches))


SCREENED_OK = ScreeningVerdict(ScreeningLevel.OK)


class Screener(Protocol):
    """Screens one text. Pure and synchronous; never raises on any ``str`` input."""

    def screen(self, text: str, context: ContentContext) -> ScreeningVerdict: ...


class ScreenerSource(Protocol):
    """Hands out the current screener; lexicon edits show up without a restart."""

    async def current(self) -> Screener: ...
