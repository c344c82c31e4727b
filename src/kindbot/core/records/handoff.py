"""Records of human handoff: a tenant's agents and the handoff of one conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kindbot.core.records.conversations import ConversationState


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """A person of the tenant who answers handed-off conversations.

    ``last_assigned_at`` orders round-robin assignment (never assigned first).
    """

    id: str
    tenant_id: str
    name: str
    online: bool
    last_assigned_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HandoffRecord:
    """One conversation's handoff: when asked for, who has it, how it ended.

    ``rating_open`` is true from resolve (the satisfaction question went out)
    until the contact's next message, which is taken as the 1–5 ``rating``
    when it is one.
    """

    conversation_id: str
    tenant_id: str
    contact_id: str
    agent_id: str | None
    requested_at: datetime
    assigned_at: datetime | None
    resolved_at: datetime | None
    rating: int | None
    rating_open: bool


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One handed-off conversation as an agent's inbox lists it."""

    conversation_id: str
    state: ConversationState
    channel: str
    """The channel's id within the tenant (``web``, ``hook``)."""
    external_id: str
    agent_id: str | None
    requested_at: datetime
    last_inbound_at: datetime | None
    rating: int | None


@dataclass(frozen=True, slots=True)
class ConversationNote:
    """An internal note on a handed-off conversation: seen by the shop's people, never sent."""

    id: str
    tenant_id: str
    conversation_id: str
    author: str
    """The author's email (dashboard users) or actor label."""
    text: str
    created_at: datetime
