"""Contacts and their conversations over SQL (``tx.contacts``, ``tx.conversations``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from kindbot.core.records.conversations import (
    ContactRecord,
    ContactSource,
    ConversationRecord,
    ConversationState,
    InboundOpening,
)
from kindbot.storage.executor import Executor
from kindbot.storage.message_path import (
    OPEN,
    open_conversation_statement,
    open_for_sender_statement,
    opening_of,
)
from kindbot.storage.schema import contacts, conversations
from kindbot.storage.sqlutil import (
    insert_ignoring_conflict,
    insert_ignoring_conflict_many,
    insert_returning_unless_conflict,
    key_digest,
    new_id,
)

_IDS_PER_QUERY = 500
"""External ids looked up per ``IN (…)`` (well under every backend's parameter limit)."""

# Statements on the per-message path are built once (values bound at execution).
_CONTACT_BY_ID = select(contacts).where(contacts.c.id == bindparam("contact_id"))
_CONTACT_BY_ADDRESS = select(contacts).where(
    contacts.c.channel_id == bindparam("channel_id"),
    contacts.c.external_id == bindparam("external_id"),
)
_CONVERSATION_BY_ID = select(conversations).where(
    conversations.c.id == bindparam("conversation_id")
)
_OPEN_CONVERSATION = select(conversations).where(
    conversations.c.channel_id == bindparam("channel_id"),
    conversations.c.contact_id == bindparam("contact_id"),
    conversations.c.open_slot == OPEN,
)
_TOUCH_INBOUND = (
    update(conversations)
    .where(conversations.c.id == bindparam("conversation_id"))
    .values(last_inbound_at=bindparam("at"))
)


def _contact(row: Any) -> ContactRecord:
    return ContactRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        channel_id=row.channel_id,
        external_id=row.external_id,
        display_name=row.display_name,
        is_test=row.is_test,
        created_at=row.created_at,
        followed=row.followed,
        opted_out_at=row.opted_out_at,
        source=ContactSource(row.source),
    )


class SqlContacts:
    """:class:`kindbot.core.ports.seams.ContactRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def get(self, contact_id: str) -> ContactRecord | None:
        row = (await self._conn.execute(_CONTACT_BY_ID, {"contact_id": contact_id})).first()
        return _contact(row) if row else None

    async def find(self, channel_id: str, external_id: str) -> ContactRecord | None:
        params = {"channel_id": channel_id, "external_id": external_id}
        row = (await self._conn.execute(_CONTACT_BY_ADDRESS, params)).first()
        return _contact(row) if row else None

    async def get_or_create(
        self,
        *,
        tenant_id: str,
        channel_id: str,
        external_id: str,
        display_name: str | None,
        now: datetime,
    ) -> ContactRecord:
        existing = await self.find(channel_id, external_id)
        if existing is not None:
            return existing
        row = await insert_returning_unless_conflict(
            self._conn,
            contacts,
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "channel_id": channel_id,
                "external_id": external_id,
                "display_name": display_name,
                "is_test": False,
                "created_at": now,
            },
            ["channel_id", "external_id"],
        )
        if row is not None:
            return _contact(row)
        record = await self.find(channel_id, external_id)  # another transaction made it first
        assert record is not None
        return record

    async def ensure_many(
        self,
        *,
        tenant_id: str,
        channel_id: str,
        external_ids: Sequence[str],
        source: ContactSource,
        now: datetime,
    ) -> dict[str, str]:
        found = await self._ids_at(channel_id, external_ids)
        missing = sorted(set(external_ids) - found.keys())
        if not missing:
            return found
        rows = [
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "channel_id": channel_id,
                "external_id": external_id,
                "display_name": None,
                "is_test": False,
                "created_at": now,
                "source": source.value,
            }
            for external_id in missing
        ]
        await insert_ignoring_conflict_many(
            self._conn, contacts, rows, ["channel_id", "external_id"]
        )
        return found | await self._ids_at(channel_id, missing)

    async def _ids_at(self, channel_id: str, external_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = sorted(set(external_ids))
        for start in range(0, len(unique), _IDS_PER_QUERY):
            query = select(contacts.c.external_id, contacts.c.id).where(
                contacts.c.channel_id == channel_id,
                contacts.c.external_id.in_(unique[start : start + _IDS_PER_QUERY]),
            )
            found.update((row.external_id, row.id) for row in await self._conn.execute(query))
        return found

    async def set_followed(self, contact_id: str, followed: bool, at: datetime) -> None:
        await self._conn.execute(
            update(contacts)
            .where(contacts.c.id == contact_id)
            .values(followed=followed, follow_changed_at=at)
        )

    async def set_opted_out(self, contact_id: str, at: datetime | None) -> None:
        await self._conn.execute(
            update(contacts).where(contacts.c.id == contact_id).values(opted_out_at=at)
        )

    async def mark_test(
        self, *, tenant_id: str, channel_id: str, external_id: str, now: datetime
    ) -> tuple[ContactRecord, bool]:
        existing = await self.find(channel_id, external_id)
        if existing is not None and existing.is_test:
            return existing, False
        created = existing is None and await insert_ignoring_conflict(
            self._conn,
            contacts,
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "channel_id": channel_id,
                "external_id": external_id,
                "display_name": None,
                "is_test": True,
                "created_at": now,
            },
            ["channel_id", "external_id"],
        )
        if not created:
            await self._conn.execute(
                update(contacts)
                .where(contacts.c.channel_id == channel_id, contacts.c.external_id == external_id)
                .values(is_test=True)
            )
        record = await self.find(channel_id, external_id)
        assert record is not None
        return record, True

    async def unmark_test(self, contact_id: str) -> None:
        await self._conn.execute(
            update(contacts).where(contacts.c.id == contact_id).values(is_test=False)
        )

    async def list_test(self, tenant_id: str) -> list[ContactRecord]:
        query = select(contacts).where(contacts.c.tenant_id == tenant_id, contacts.c.is_test)
        query = query.order_by(contacts.c.channel_id, contacts.c.external_id)
        return [_contact(r) for r in await self._conn.execute(query)]


def _conversation(row: Any) -> ConversationRecord:
    return ConversationRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        channel_id=row.channel_id,
        contact_id=row.contact_id,
        state=ConversationState(row.state),
        created_at=row.created_at,
        last_inbound_at=row.last_inbound_at,
    )


def _new_conversation(
    tenant_id: str, channel_id: str, contact_id: str, now: datetime
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "tenant_id": tenant_id,
        "channel_id": channel_id,
        "contact_id": contact_id,
        "state": ConversationState.BOT.value,
        "open_slot": OPEN,
        "created_at": now,
        "last_inbound_at": None,
    }


class SqlConversations:
    """:class:`kindbot.core.ports.seams.ConversationRepository` over SQL."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def get(self, conversation_id: str) -> ConversationRecord | None:
        params = {"conversation_id": conversation_id}
        row = (await self._conn.execute(_CONVERSATION_BY_ID, params)).first()
        return _conversation(row) if row else None

    async def find_open(self, channel_id: str, contact_id: str) -> ConversationRecord | None:
        params = {"channel_id": channel_id, "contact_id": contact_id}
        row = (await self._conn.execute(_OPEN_CONVERSATION, params)).first()
        return _conversation(row) if row is not None else None

    async def get_or_open(
        self, *, tenant_id: str, channel_id: str, contact_id: str, now: datetime
    ) -> ConversationRecord:
        query = _OPEN_CONVERSATION
        params = {"channel_id": channel_id, "contact_id": contact_id}
        row = (await self._conn.execute(query, params)).first()
        if row is not None:
            return _conversation(row)
        await insert_ignoring_conflict(
            self._conn,
            conversations,
            _new_conversation(tenant_id, channel_id, contact_id, now),
            ["channel_id", "contact_id", "open_slot"],
        )
        row = (await self._conn.execute(query, params)).one()
        return _conversation(row)

    async def open_for_sender(
        self,
        *,
        tenant_id: str,
        channel_id: str,
        external_id: str,
        display_name: str | None,
        idempotency_key: str,
        at: datetime,
        recent: int,
    ) -> InboundOpening:
        params = {
            "revision_tenant_id": tenant_id,
            "b_channel_id": channel_id,
            "b_external_id": external_id,
            "key_digest": key_digest(idempotency_key),
            "at": at,
        }
        statement = open_for_sender_statement(recent)
        row = (await self._conn.execute(statement, params)).first()
        if row is None:  # a new contact, or none open: create them (once, whoever races)
            await insert_ignoring_conflict(
                self._conn,
                contacts,
                {
                    "id": new_id(),
                    "tenant_id": tenant_id,
                    "channel_id": channel_id,
                    "external_id": external_id,
                    "display_name": display_name,
                    "is_test": False,
                    "created_at": at,
                },
                ["channel_id", "external_id"],
            )
            opening = open_conversation_statement(self._conn.dialect_name)
            await self._conn.execute(
                opening, {**params, "conversation_id": new_id(), "tenant_id": tenant_id}
            )
            row = (await self._conn.execute(statement, params)).one()
        return opening_of(row, channel_id=channel_id, external_id=external_id, recent=recent)

    async def touch_inbound(self, conversation_id: str, at: datetime) -> None:
        await self._conn.execute(_TOUCH_INBOUND, {"conversation_id": conversation_id, "at": at})

    async def set_state(self, conversation_id: str, state: ConversationState) -> None:
        slot = None if state is ConversationState.RESOLVED else OPEN
        await self._conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(state=state.value, open_slot=slot)
        )
