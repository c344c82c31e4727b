"""Contract: where multi-turn flows keep their definitions and each conversation's place.

Contract module: imports nothing of ours. A tenant's flow definitions are the
bundle's ``flows:`` as JSON (see :mod:`kindbot.dialogue.flow_codec`) with its
``endpoints:`` sealed (their headers may hold secrets); a conversation in a
flow has one :class:`FlowState` row, written in the same transaction as the
replies of the message that moved it, so a restart resumes where it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["FlowDefinitions", "FlowRepository", "FlowState", "Slots"]

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


class FlowRepository(Protocol):
    """Flow definitions per tenant and flow state per conversation (``tx.flows``)."""

    async def definitions(self, tenant_id: str) -> FlowDefinitions | None:
        """The tenant's stored flows; None when it has none."""
        ...

    async def replace_definitions(
        self, tenant_id: str, definitions: FlowDefinitions | None
    ) -> bool:
        """Store ``definitions`` (None: remove them); True when something changed."""
        ...

    async def state(self, conversation_id: str) -> FlowState | None:
        """The conversation's place in a flow, if it is in one."""
        ...

    async def save_state(
        self, *, tenant_id: str, conversation_id: str, contact_id: str, state: FlowState
    ) -> None:
        """Insert or replace the conversation's flow state (one row per conversation)."""
        ...

    async def clear_state(self, conversation_id: str) -> bool:
        """Forget the conversation's flow state; True when there was one."""
        ...
