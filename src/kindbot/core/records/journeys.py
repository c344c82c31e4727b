"""Journeys: a follow-up message some time after something a contact did (issue 16 §5).

A journey is declared by the shop (bundle or API): a trigger (the contact's
first message, a business event of a type, a tag added), a delay, an
optional condition (segment membership when it fires), a consent topic and a
message. Each contact runs a journey at most once; a run is stored when its
trigger is seen and decided — by the guard, when it fires — later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class TriggerKind(StrEnum):
    """What starts a journey for a contact."""

    FIRST_CONTACT = "first_contact"
    """The contact's first message (a contact kindbot learned of by its own message)."""
    EVENT = "event"
    """A business event of one type (``order``, ``signup``, a custom type)."""
    TAG = "tag"
    """A tag added to the contact after the journey was declared."""


class RunStatus(StrEnum):
    """Where a run is: waiting for its time, or how it ended."""

    SCHEDULED = "scheduled"
    SENT = "sent"
    """The guard allowed the message: it is in the outbox."""
    DEFERRED = "deferred"
    """The guard deferred it (quiet hours, caps): a deferred send decides it again."""
    SKIPPED = "skipped"
    """Not attempted: the guard would certainly refuse it, or the condition did not hold."""
    DENIED = "denied"
    """The guard refused it when it was sent."""
    CANCELLED = "cancelled"
    """The contact opted out, or the journey was withdrawn, before it fired."""


@dataclass(frozen=True, slots=True)
class JourneyDefinition:
    """A journey as the shop declares it (validated: see ``campaigns.journeys``)."""

    name: str
    trigger: TriggerKind
    trigger_value: str | None
    """The event type (``EVENT``) or the tag (``TAG``); None for ``FIRST_CONTACT``."""
    delay_seconds: int
    topic: str
    text: str
    segment: str | None = None
    """Fire only when the contact is a member of this saved segment then."""


@dataclass(frozen=True, slots=True)
class JourneyRecord:
    """A stored journey; only triggers after ``declared_at`` (when its trigger was last
    set) start it."""

    id: str
    tenant_id: str
    definition: JourneyDefinition
    enabled: bool
    declared_at: datetime
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TriggerSeen:
    """One contact's trigger of a journey: when it happened and what it was."""

    contact_id: str
    at: datetime
    ref: str
    """What triggered it: the event id, ``first_contact`` or ``tag:<tag>``."""


@dataclass(frozen=True, slots=True)
class NewJourneyRun:
    """A run to store (ignored when the contact already has one for the journey)."""

    id: str
    tenant_id: str
    journey_id: str
    contact_id: str
    trigger_ref: str
    triggered_at: datetime
    due_at: datetime
    status: RunStatus
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class JourneyRun:
    """A stored run."""

    id: str
    tenant_id: str
    journey_id: str
    contact_id: str
    trigger_ref: str
    triggered_at: datetime
    due_at: datetime
    status: RunStatus
    reason: str | None
    message_id: str | None
    decided_at: datetime | None
