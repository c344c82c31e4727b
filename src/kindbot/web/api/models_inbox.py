"""Request and response bodies of the agents' inbox API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from kindbot.core.records.conversations import MessageRecord
from kindbot.core.records.handoff import AgentRecord, InboxItem
from kindbot.web.api.models import ErrorDetail
from kindbot.web.api.models_guard import VerdictOut


class AgentIn(BaseModel):
    """A new agent (names are unique within the tenant)."""

    name: str = Field(min_length=1, max_length=100)


class AgentOut(BaseModel):
    """One agent; ``online`` agents take round-robin assignments."""

    id: str
    name: str
    online: bool
    last_assigned_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, agent: AgentRecord) -> AgentOut:
        return cls(
            id=agent.id,
            name=agent.name,
            online=agent.online,
            last_assigned_at=agent.last_assigned_at,
            created_at=agent.created_at,
        )


class AgentList(BaseModel):
    """The tenant's agents, oldest first."""

    agents: list[AgentOut]


class InboxItemOut(BaseModel):
    """A handed-off conversation: its state, contact, agent and rating."""

    conversation_id: str
    state: str
    channel: str
    external_id: str
    agent_id: str | None
    requested_at: datetime
    last_inbound_at: datetime | None
    rating: int | None

    @classmethod
    def of(cls, item: InboxItem) -> InboxItemOut:
        return cls(
            conversation_id=item.conversation_id,
            state=item.state.value,
            channel=item.channel,
            external_id=item.external_id,
            agent_id=item.agent_id,
            requested_at=item.requested_at,
            last_inbound_at=item.last_inbound_at,
            rating=item.rating,
        )


class InboxList(BaseModel):
    """Handed-off conversations, oldest request first."""

    conversations: list[InboxItemOut]


class MessageOut(BaseModel):
    """One message of a conversation (``direction`` ``in`` or ``out``).

    ``generated``: model-generated text (shown with the AIGC label);
    ``source_entry_ids``: the knowledge entries it was grounded on.
    """

    id: str
    direction: str
    text: str
    created_at: datetime
    generated: bool = False
    source_entry_ids: list[str] = []

    @classmethod
    def of(cls, message: MessageRecord) -> MessageOut:
        return cls(
            id=message.id,
            direction=message.direction.value,
            text=message.text,
            created_at=message.created_at,
            generated=message.generated,
            source_entry_ids=list(message.source_entry_ids),
        )


class ConversationOut(BaseModel):
    """A handed-off conversation and its messages, oldest first."""

    conversation: InboxItemOut
    messages: list[MessageOut]


class TransferIn(BaseModel):
    """The agent (id or name) to hand the conversation to."""

    agent: str = Field(min_length=1, max_length=100)


class ReplyIn(BaseModel):
    """The agent's message to the contact."""

    text: str = Field(min_length=1, max_length=2000)


class ReplyOut(BaseModel):
    """An admitted reply: its message id and the guard's verdict."""

    message_id: str
    verdict: VerdictOut


class ReplyDenied(BaseModel):
    """A refused reply: 403 ``guard_denied`` and the verdict that says why."""

    error: ErrorDetail
    verdict: VerdictOut
