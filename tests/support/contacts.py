"""Contacts for guard tests: a web chat visitor who wrote, consent, what the bot sent them."""

from __future__ import annotations

from datetime import timedelta

from kindbot.bootstrap import Container
from kindbot.campaigns.proactive import ProactiveRequest
from kindbot.core.events import InboundEvent, InboundKind
from kindbot.core.records.conversations import ContactRecord
from tests.support.clock import FakeClock

WEB = "teashop.web"
WEB_GRACE = timedelta(seconds=30)


async def visitor(container: Container, clock: FakeClock, sender: str) -> ContactRecord:
    """A web chat visitor who wrote once (so the channel's session is open)."""
    event = InboundEvent(
        channel_public_id=WEB,
        sender=sender,
        kind=InboundKind.TEXT,
        text="你好",
        idempotency_key=f"hello-{sender}-{clock.now().isoformat()}",
        received_at=clock.now(),
    )
    await container.pipeline.feed(event, sync_grace=WEB_GRACE)
    async with container.store.transaction(readonly=True) as tx:
        channel = await tx.channels.get_by_public_id(WEB)
        assert channel is not None
        contact = await tx.contacts.find(channel.id, sender)
    assert contact is not None
    return contact


async def consent(container: Container, contact: ContactRecord, topic: str) -> None:
    """Record the contact's opt-in to ``topic`` on its channel."""
    async with container.store.transaction() as tx:
        await tx.consents.grant(
            tenant_id=contact.tenant_id,
            contact_id=contact.id,
            channel_id=contact.channel_id,
            topic=topic,
            source="widget",
            wording="有新茶上市时通知我",
            now=container.clock.now(),
        )


def proactive_request(contact: ContactRecord, text: str = "新茶上市：明前龙井") -> ProactiveRequest:
    """A proactive message to ``contact`` on the topic ``new-tea``."""
    return ProactiveRequest(contact.tenant_id, contact.id, "new-tea", text)


async def outbound_texts(container: Container, contact: ContactRecord) -> list[str]:
    """Texts of the bot's messages in the contact's open conversation, oldest first."""
    async with container.store.transaction(readonly=True) as tx:
        conversation = await tx.conversations.find_open(contact.channel_id, contact.id)
        assert conversation is not None
        history = await tx.messages.history(conversation.id, 50)
    return [m.text for m in history if m.direction == "outbound"]
