"""Broadcasts and the bulk facts their guard plans read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class BroadcastStatus(StrEnum):
    """A broadcast waits for a second person's approval when it is big, then is sent."""

    AWAITING_APPROVAL = "awaiting_approval"
    SENT = "sent"


@dataclass(frozen=True, slots=True)
class BroadcastRecord:
    """One message for a topic to the contacts carrying a tag."""

    id: str
    tenant_id: str
    topic: str
    text: str
    tag: str
    recipients: int
    status: BroadcastStatus
    created_by: str
    approved_by: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PlanContact:
    """What bulk planning knows about one recipient, read in bulk."""

    contact_id: str
    channel_id: str
    channel_kind: str
    external_id: str
    is_test: bool
    followed: bool
    last_inbound_at: datetime | None
