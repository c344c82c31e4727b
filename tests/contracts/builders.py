"""Small builders for the storage contract tests.

Everything here goes through the :mod:`kindbot.core.ports.seams` Protocols only
(``tx.tenants``, ``tx.channels``, ...), so the contract suite can run against
any backend that implements :class:`kindbot.core.ports.seams.Store`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kindbot.core.events import InboundEvent, InboundKind
from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.conversations import ContactRecord, ConversationRecord, MessageRecord
from kindbot.core.records.outbox import OutboxItem
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
"""A fixed instant the tests count from."""


def at(minutes: float = 0, *, seconds: float = 0) -> datetime:
    """``T0`` plus an offset."""
    return T0 + timedelta(minutes=minutes, seconds=seconds)


@dataclass(frozen=True, slots=True)
class Party:
    """A tenant, one of its channels, a contact on it and their open conversation."""

    tenant: TenantRecord
    channel: ChannelRecord
    contact: ContactRecord
    conversation: ConversationRecord


async def make_tenant(tx: Transaction, slug: str = "acme", *, now: datetime = T0) -> TenantRecord:
    tenant, _ = await tx.tenants.upsert(
        slug=slug,
        name=f"{slug} Ltd",
        industry="retail",
        timezone="Asia/Taipei",
        language="zh-TW",
        kb_threshold=None,
        now=now,
    )
    return tenant


async def make_channel(
    tx: Transaction, tenant: TenantRecord, local_id: str = "line", *, config: str = "sealed"
) -> ChannelRecord:
    channel, _ = await tx.channels.upsert(
        tenant_id=tenant.id,
        public_id=f"{tenant.slug}.{local_id}",
        local_id=local_id,
        kind="line",
        config_sealed=config,
    )
    return channel


async def make_contact(
    tx: Transaction, channel: ChannelRecord, external_id: str = "U1", *, now: datetime = T0
) -> ContactRecord:
    return await tx.contacts.get_or_create(
        tenant_id=channel.tenant_id,
        channel_id=channel.id,
        external_id=external_id,
        display_name=f"User {external_id}",
        now=now,
    )


async def open_conversation(
    tx: Transaction, contact: ContactRecord, *, now: datetime = T0
) -> ConversationRecord:
    return await tx.conversations.get_or_open(
        tenant_id=contact.tenant_id,
        channel_id=contact.channel_id,
        contact_id=contact.id,
        now=now,
    )


async def make_party_in(
    tx: Transaction, slug: str = "acme", local_id: str = "line", external_id: str = "U1"
) -> Party:
    tenant = await tx.tenants.get_by_slug(slug) or await make_tenant(tx, slug)
    channel = await tx.channels.get_by_public_id(f"{slug}.{local_id}") or await make_channel(
        tx, tenant, local_id
    )
    contact = await make_contact(tx, channel, external_id)
    conversation = await open_conversation(tx, contact)
    return Party(tenant, channel, contact, conversation)


async def make_party(
    store: Store, slug: str = "acme", local_id: str = "line", external_id: str = "U1"
) -> Party:
    """A committed :class:`Party` (created in its own transaction)."""
    async with store.transaction() as tx:
        return await make_party_in(tx, slug, local_id, external_id)


def inbound_event(
    party: Party, key: str, text: str = "hello", *, received_at: datetime = T0
) -> InboundEvent:
    return InboundEvent(
        channel_public_id=party.channel.public_id,
        sender=party.contact.external_id,
        kind=InboundKind.TEXT,
        text=text,
        idempotency_key=key,
        received_at=received_at,
    )


async def store_inbound(
    tx: Transaction,
    party: Party,
    key: str,
    text: str = "hello",
    *,
    received_at: datetime = T0,
    conversation: ConversationRecord | None = None,
) -> tuple[MessageRecord, bool]:
    return await tx.messages.insert_inbound(
        event=inbound_event(party, key, text, received_at=received_at),
        tenant_id=party.tenant.id,
        channel_id=party.channel.id,
        contact_id=party.contact.id,
        conversation_id=(conversation or party.conversation).id,
    )


async def store_outbound(
    tx: Transaction,
    party: Party,
    text: str = "reply",
    *,
    reply_to: MessageRecord | None = None,
    now: datetime = T0,
    conversation: ConversationRecord | None = None,
    origin: str | None = None,
) -> MessageRecord:
    return await tx.messages.insert_outbound(
        tenant_id=party.tenant.id,
        channel_id=party.channel.id,
        contact_id=party.contact.id,
        conversation_id=(conversation or party.conversation).id,
        text=text,
        reply_to_id=reply_to.id if reply_to else None,
        generated=False,
        now=now,
        origin=origin,
    )


async def enqueue_reply(
    tx: Transaction, party: Party, text: str = "reply", *, not_before: datetime = T0
) -> OutboxItem:
    """An outbound message and its outbox item, due at ``not_before``."""
    message = await store_outbound(tx, party, text)
    return await tx.outbox.enqueue(
        tenant_id=party.tenant.id,
        channel_id=party.channel.id,
        contact_id=party.contact.id,
        message_id=message.id,
        text=text,
        not_before=not_before,
        now=T0,
    )


async def raises_in_transaction(
    store: Store, action: Callable[[Transaction], Awaitable[object]]
) -> Exception:
    """Run ``action`` in a transaction that must fail; return the exception."""
    try:
        async with store.transaction() as tx:
            await action(tx)
    except Exception as exc:
        return exc
    raise AssertionError("expected the transaction to raise")
