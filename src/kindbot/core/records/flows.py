"""Multi-turn flows as stored: the definitions of a tenant and one conversation's place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

Slots = tuple[tuple[str, str], ...]
"""Collected values by name, sorted by name (a frozen mapping)."""


@dataclass(frozen=True, slots=True)
class FlowState:
    """Where one conversation is in a flow.

    ``slots`` holds the values collected so far and, after an endpoint call,
    its response fields under ``response.<path>``; ``retries`` counts invalid
    answers to the current state's slot; ``language`` (``zh``/``en``) is
    fixed when the flow starts; ``updated_at`` is when the customer last moved
    it (the timeout counts from there).
    """

    flow: str
    state: str
    slots: Slots
    retries: int
    language: str
    updated_at: datetime

    def slot(self, name: str) -> str | None:
        """The value of ``name``, if collected."""
        return next((value for key, value in self.slots if key == name), None)


@dataclass(frozen=True, slots=True)
class FlowDefinitions:
    """A tenant's flows (JSON) and endpoints (sealed JSON, None when it has none)."""

    flows_json: str
    endpoints_sealed: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationFlow:
    """A conversation that is in a flow now, and where (one row per conversation)."""

    conversation_id: str
    contact_id: str
    state: FlowState
