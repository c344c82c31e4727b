"""Contract: where multi-turn flows keep their definitions and each conversation's place.

Contract module: imports nothing of ours but its records. A tenant's flow
definitions are the bundle's ``flows:`` as JSON (see :mod:`kindbot.dialogue.flow_codec`) with its
``endpoints:`` sealed (their headers may hold secrets); a conversation in a
flow has one ``FlowState`` row (:mod:`kindbot.core.records.flows`), written in
the same transaction as the replies of the message that moved it, so a
restart resumes where it was.
"""

from __future__ import annotations

from typing import Protocol

from kindbot.core.records.flows import ConversationFlow, FlowDefinitions, FlowState

__all__ = ["FlowRepository"]


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

    async def states_of_tenant(self, tenant_id: str, limit: int) -> list[ConversationFlow]:
        """The tenant's conversations that are in a flow now, last moved first."""
        ...
