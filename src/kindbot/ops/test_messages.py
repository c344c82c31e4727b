"""A shop's "send a test message" button: one proactive message to one of its own
test contacts, through the guard like every send.

Only test contacts (the people a shop names as its own staff's accounts) can
be chosen, so the button cannot become a way to message customers. The guard
decides as for any proactive send — consent to the topic, caps, quiet hours,
the shop's status — and the shop sees its verdict: admitted to the outbox,
deferred until when, or refused and why.
"""

from __future__ import annotations

from kindbot.campaigns.proactive import ProactiveOutcome, ProactiveRequest, ProactiveSender
from kindbot.core.errors import BadRequestError, NotFoundError
from kindbot.core.ports.seams import Store
from kindbot.core.records.tenancy import TenantRecord

MAX_TOPIC = 64
MAX_TEXT = 4000


def checked_test_message(topic: str, text: str) -> tuple[str, str]:
    """The topic (one word, 1–64 characters) and text (1–4,000 characters), stripped;
    400 ``invalid_topic`` / ``invalid_text`` otherwise."""
    topic, text = topic.strip(), text.strip()
    if not topic or len(topic) > MAX_TOPIC or any(c.isspace() for c in topic):
        raise BadRequestError(
            f"topic: one word of 1 to {MAX_TOPIC} characters", code="invalid_topic"
        )
    if not text or len(text) > MAX_TEXT:
        raise BadRequestError(f"text: 1 to {MAX_TEXT} characters", code="invalid_text")
    return topic, text


async def send_test_message(
    store: Store,
    sender: ProactiveSender,
    tenant: TenantRecord,
    contact_id: str,
    *,
    topic: str,
    text: str,
) -> ProactiveOutcome:
    """Send ``text`` for ``topic`` to the shop's test contact ``contact_id`` through the guard.

    404 ``unknown_test_contact`` when the contact is not one of the shop's test
    contacts; 400 for a bad topic or text. The outcome carries the guard's verdict.
    """
    topic, text = checked_test_message(topic, text)
    async with store.transaction(readonly=True) as tx:
        tests = await tx.contacts.list_test(tenant.id)
    if not any(c.id == contact_id for c in tests):
        raise NotFoundError("not one of the shop's test contacts", code="unknown_test_contact")
    return await sender.send(ProactiveRequest(tenant.id, contact_id, topic, text))
