"""The consent ledger: a contact's opt-in or withdrawal for a topic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ConsentStatus(StrEnum):
    """State of one consent record."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """A contact's consent to hear about one topic on one channel."""

    id: str
    tenant_id: str
    contact_id: str
    channel_id: str
    topic: str
    status: ConsentStatus
    source: str
    wording: str
    granted_at: datetime
    withdrawn_at: datetime | None
