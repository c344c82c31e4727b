"""Repository Protocols of the operators' tools (a contract module).

API keys, a contact's data as a whole (export, erasure), agents and human
handoffs; assembled into :class:`kindbot.core.ports.seams.Transaction`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from kindbot.core.records.conversations import ConversationState
from kindbot.core.records.handoff import AgentRecord, ConversationNote, HandoffRecord, InboxItem
from kindbot.core.records.operations import ApiKeyRecord, ContactData, ErasureCounts


class ApiKeyRepository(Protocol):
    """Tenants' API keys: stored as a SHA-256 with a public prefix, revocable."""

    async def create(
        self,
        *,
        tenant_id: str,
        prefix: str,
        key_hash: str,
        label: str,
        created_by: str,
        now: datetime,
    ) -> ApiKeyRecord:
        """Store a new key (``prefix`` is unique across tenants)."""
        ...

    async def by_prefix(self, prefix: str) -> ApiKeyRecord | None:
        """The key with this public prefix, revoked or not."""
        ...

    async def list_for_tenant(self, tenant_id: str) -> list[ApiKeyRecord]:
        """The tenant's keys, oldest first, revoked ones included."""
        ...

    async def revoke(self, tenant_id: str, key_id: str, now: datetime) -> bool:
        """Revoke the tenant's key; False when there is no such active key."""
        ...


class ContactDataRepository(Protocol):
    """A contact's data as a whole: export it, or erase it (data rights, PIPL art. 45/47)."""

    async def export(self, contact_id: str) -> ContactData | None:
        """Everything stored about the contact; None when it does not exist. The audit
        entries naming it are read after sealing the tenant's pending ones."""
        ...

    async def erase(self, contact_id: str) -> ErasureCounts:
        """Delete the contact and every row that belongs to it (messages, conversations,
        consents, tags, deferred sends, outbox rows); the audit log (pending entries
        too) is not touched.

        Runs inside the caller's transaction, so the erasure is all or nothing.
        """
        ...


class AgentRepository(Protocol):
    """A tenant's agents (human handoff)."""

    async def add(self, *, tenant_id: str, name: str, now: datetime) -> AgentRecord:
        """A new agent, offline and never assigned (names are unique per tenant)."""
        ...

    async def get(self, agent_id: str) -> AgentRecord | None: ...
    async def by_name(self, tenant_id: str, name: str) -> AgentRecord | None: ...
    async def list(self, tenant_id: str) -> list[AgentRecord]:
        """The tenant's agents, oldest first."""
        ...

    async def set_online(self, agent_id: str, online: bool) -> None: ...
    async def mark_assigned(self, agent_id: str, at: datetime) -> None:
        """Note a conversation was assigned to the agent at ``at`` (round-robin order)."""
        ...


class HandoffRepository(Protocol):
    """One row per handed-off conversation; the state stays on the conversation."""

    async def get(self, conversation_id: str) -> HandoffRecord | None: ...
    async def open(
        self, *, tenant_id: str, conversation_id: str, contact_id: str, now: datetime
    ) -> None:
        """Record that the conversation asked for a person (once per conversation)."""
        ...

    async def assign(
        self, conversation_id: str, agent_id: str, at: datetime, *, expected: str | None
    ) -> bool:
        """Give an unresolved handoff held by ``expected`` (None: nobody) to ``agent_id``.

        False (nothing changed) when someone else holds it now: a concurrent
        claim or transfer won.
        """
        ...

    async def resolve(self, conversation_id: str, at: datetime, *, ask_rating: bool) -> None:
        """Mark resolved; ``ask_rating`` opens the satisfaction rating for the next message."""
        ...

    async def open_rating(self, contact_id: str) -> HandoffRecord | None:
        """The contact's latest handoff still waiting for a rating, if any."""
        ...

    async def close_rating(self, conversation_id: str, rating: int | None) -> None:
        """Record ``rating`` (None: the contact answered something else) and close it."""
        ...

    async def inbox(
        self, tenant_id: str, *, states: tuple[ConversationState, ...], agent_id: str | None
    ) -> list[InboxItem]:
        """Handed-off conversations in ``states`` (of ``agent_id`` when given), oldest first."""
        ...


class NoteRepository(Protocol):
    """Internal notes on handed-off conversations (never sent to the contact)."""

    async def add(self, note: ConversationNote) -> None:
        """Store a note."""
        ...

    async def for_conversation(self, conversation_id: str) -> list[ConversationNote]:
        """The conversation's notes, oldest first."""
        ...
