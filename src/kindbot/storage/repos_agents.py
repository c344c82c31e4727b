"""SQL repositories for human handoff: agents and handed-off conversations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from kindbot.core.records.conversations import ConversationState
from kindbot.core.records.handoff import AgentRecord, ConversationNote, HandoffRecord, InboxItem
from kindbot.storage.executor import Executor
from kindbot.storage.schema import (
    agents,
    channels,
    contacts,
    conversation_notes,
    conversations,
    handoffs,
)
from kindbot.storage.sqlutil import new_id


def _agent(row: Any) -> AgentRecord:
    return AgentRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        online=bool(row.online),
        last_assigned_at=row.last_assigned_at,
        created_at=row.created_at,
    )


def _handoff(row: Any) -> HandoffRecord:
    return HandoffRecord(
        conversation_id=row.conversation_id,
        tenant_id=row.tenant_id,
        contact_id=row.contact_id,
        agent_id=row.agent_id,
        requested_at=row.requested_at,
        assigned_at=row.assigned_at,
        resolved_at=row.resolved_at,
        rating=row.rating,
        rating_open=bool(row.rating_open),
    )


_OPEN_RATING = (
    select(handoffs)
    .where(handoffs.c.contact_id == bindparam("contact_id"), handoffs.c.rating_open)
    .order_by(handoffs.c.resolved_at.desc())
)


class SqlAgents:
    """:class:`kindbot.core.ports.operations.AgentRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, *, tenant_id: str, name: str, now: datetime) -> AgentRecord:
        values = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "name": name,
            "online": False,
            "last_assigned_at": None,
            "created_at": now,
        }
        await self._conn.execute(agents.insert().values(**values))
        found = await self.get(str(values["id"]))
        assert found is not None
        return found

    async def get(self, agent_id: str) -> AgentRecord | None:
        row = (await self._conn.execute(select(agents).where(agents.c.id == agent_id))).first()
        return _agent(row) if row is not None else None

    async def by_name(self, tenant_id: str, name: str) -> AgentRecord | None:
        query = select(agents).where(agents.c.tenant_id == tenant_id, agents.c.name == name)
        row = (await self._conn.execute(query)).first()
        return _agent(row) if row is not None else None

    async def list(self, tenant_id: str) -> list[AgentRecord]:
        query = select(agents).where(agents.c.tenant_id == tenant_id)
        query = query.order_by(agents.c.created_at, agents.c.id)
        return [_agent(r) for r in await self._conn.execute(query)]

    async def set_online(self, agent_id: str, online: bool) -> None:
        statement = update(agents).where(agents.c.id == agent_id).values(online=online)
        await self._conn.execute(statement)

    async def mark_assigned(self, agent_id: str, at: datetime) -> None:
        await self._conn.execute(
            update(agents).where(agents.c.id == agent_id).values(last_assigned_at=at)
        )


class SqlHandoffs:
    """:class:`kindbot.core.ports.operations.HandoffRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def get(self, conversation_id: str) -> HandoffRecord | None:
        query = select(handoffs).where(handoffs.c.conversation_id == conversation_id)
        row = (await self._conn.execute(query)).first()
        return _handoff(row) if row is not None else None

    async def open(
        self, *, tenant_id: str, conversation_id: str, contact_id: str, now: datetime
    ) -> None:
        values = {
            "conversation_id": conversation_id,
            "tenant_id": tenant_id,
            "contact_id": contact_id,
            "agent_id": None,
            "requested_at": now,
            "assigned_at": None,
            "resolved_at": None,
            "rating": None,
            "rating_open": False,
        }
        await self._conn.execute(handoffs.insert().values(**values))

    async def assign(
        self, conversation_id: str, agent_id: str, at: datetime, *, expected: str | None
    ) -> bool:
        held_by = (
            handoffs.c.agent_id.is_(None) if expected is None else handoffs.c.agent_id == expected
        )
        result = await self._conn.execute(
            update(handoffs)
            .where(
                handoffs.c.conversation_id == conversation_id,
                handoffs.c.resolved_at.is_(None),
                held_by,
            )
            .values(agent_id=agent_id, assigned_at=at)
        )
        return bool(result.rowcount)

    async def resolve(self, conversation_id: str, at: datetime, *, ask_rating: bool) -> None:
        await self._conn.execute(
            update(handoffs)
            .where(handoffs.c.conversation_id == conversation_id)
            .values(resolved_at=at, rating_open=ask_rating)
        )

    async def open_rating(self, contact_id: str) -> HandoffRecord | None:
        row = (await self._conn.execute(_OPEN_RATING, {"contact_id": contact_id})).first()
        return _handoff(row) if row is not None else None

    async def close_rating(self, conversation_id: str, rating: int | None) -> None:
        await self._conn.execute(
            update(handoffs)
            .where(handoffs.c.conversation_id == conversation_id)
            .values(rating=rating, rating_open=False)
        )

    async def inbox(
        self, tenant_id: str, *, states: tuple[ConversationState, ...], agent_id: str | None
    ) -> list[InboxItem]:
        query = (
            select(
                conversations.c.id,
                conversations.c.state,
                conversations.c.last_inbound_at,
                contacts.c.external_id,
                channels.c.local_id,
                handoffs.c.agent_id,
                handoffs.c.requested_at,
                handoffs.c.rating,
            )
            .select_from(
                handoffs.join(conversations, conversations.c.id == handoffs.c.conversation_id)
                .join(contacts, contacts.c.id == conversations.c.contact_id)
                .join(channels, channels.c.id == conversations.c.channel_id)
            )
            .where(
                handoffs.c.tenant_id == tenant_id,
                conversations.c.state.in_([s.value for s in states]),
            )
            .order_by(handoffs.c.requested_at, conversations.c.id)
        )
        if agent_id is not None:
            query = query.where(handoffs.c.agent_id == agent_id)
        return [_item(r) for r in await self._conn.execute(query)]


def _item(row: Any) -> InboxItem:
    return InboxItem(
        conversation_id=row.id,
        state=ConversationState(row.state),
        channel=row.local_id,
        external_id=row.external_id,
        agent_id=row.agent_id,
        requested_at=row.requested_at,
        last_inbound_at=row.last_inbound_at,
        rating=row.rating,
    )


class SqlNotes:
    """:class:`kindbot.core.ports.operations.NoteRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, note: ConversationNote) -> None:
        values = {f: getattr(note, f) for f in ConversationNote.__slots__}
        await self._conn.execute(conversation_notes.insert().values(values))

    async def for_conversation(self, conversation_id: str) -> list[ConversationNote]:
        query = (
            select(conversation_notes)
            .where(conversation_notes.c.conversation_id == conversation_id)
            .order_by(conversation_notes.c.created_at)
        )
        return [
            ConversationNote(
                id=r.id,
                tenant_id=r.tenant_id,
                conversation_id=r.conversation_id,
                author=r.author,
                text=r.text,
                created_at=r.created_at,
            )
            for r in await self._conn.execute(query)
        ]
