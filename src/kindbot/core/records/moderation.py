"""The moderation lexicon's stored terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class TermAction(StrEnum):
    """What an operator's or tenant's moderation term does: allow, deny (block), flag."""

    ALLOW = "allow"
    DENY = "deny"
    FLAG = "flag"


@dataclass(frozen=True, slots=True)
class ModerationTerm:
    """A moderation lexicon edit; ``tenant_id`` None: the platform's own lexicon.

    ``category`` is a :class:`kindbot.core.screening.ContentCategory` value (None
    for an allow term, which applies to every category).
    """

    id: str
    tenant_id: str | None
    term: str
    category: str | None
    action: TermAction
    created_at: datetime
    created_by: str
