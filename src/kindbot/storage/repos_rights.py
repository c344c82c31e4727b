"""SQL repository for a contact's data as a whole: export and erasure.

Every table with a ``contact_id`` (``storage/schema.py``) is covered:
conversations, messages, outbox, consents, contact_tags, deferred_sends,
flow_states, business_events, contact_attributes, campaign_recipients, journey_runs —
and the contact row itself (business events, notes and attributes are exported by
``ops/rights.py`` through their own repositories). The audit log is read (entries
naming the contact or its messages) but never changed: its entries carry ids, not
text, and the hash chain must keep verifying.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Delete, delete, select

from kindbot.core.records.audit import AuditEntry
from kindbot.core.records.operations import ContactData, ErasureCounts
from kindbot.storage.executor import Executor
from kindbot.storage.repos_audit import SqlAudit, _audit
from kindbot.storage.repos_conversations import _contact, _conversation
from kindbot.storage.repos_flows import _state
from kindbot.storage.repos_ledger import _consent
from kindbot.storage.repos_messages import _message
from kindbot.storage.repos_outbox import _item
from kindbot.storage.repos_sends import _deferred
from kindbot.storage.schema import (
    audit_entries,
    business_events,
    campaign_recipients,
    consents,
    contact_attributes,
    contact_tags,
    contacts,
    conversation_notes,
    conversations,
    deferred_sends,
    flow_states,
    handoffs,
    journey_runs,
    messages,
    outbox,
)

SUBJECTS_PER_QUERY = 500


def audit_subjects(contact_id: str, message_ids: Sequence[str]) -> list[str]:
    """The audit subjects that can name this contact: itself, its messages, replies to them."""
    subjects = [f"contact:{contact_id}"]
    for message_id in message_ids:
        subjects += [f"message:{message_id}", f"reply-to:{message_id}"]
    return subjects


class SqlContactData:
    """:class:`kindbot.core.ports.operations.ContactDataRepository` over SQL.

    ``audit``: the transaction's chain, sealed before the entries naming the
    contact are read (as every reader of the chain does).
    """

    def __init__(self, conn: Executor, audit: SqlAudit) -> None:
        self._conn = conn
        self._audit = audit

    async def export(self, contact_id: str) -> ContactData | None:
        row = (
            await self._conn.execute(select(contacts).where(contacts.c.id == contact_id))
        ).first()
        if row is None:
            return None
        contact = _contact(row)
        await self._audit.seal_now(contact.tenant_id)
        run = self._conn.execute
        convs = await run(
            select(conversations)
            .where(conversations.c.contact_id == contact_id)
            .order_by(conversations.c.created_at, conversations.c.id)
        )
        msgs = [
            _message(r)
            for r in await run(
                select(messages).where(messages.c.contact_id == contact_id).order_by(messages.c.seq)
            )
        ]
        cons = await run(
            select(consents)
            .where(consents.c.contact_id == contact_id)
            .order_by(consents.c.granted_at, consents.c.id)
        )
        tags = await run(
            select(contact_tags.c.tag)
            .where(contact_tags.c.contact_id == contact_id)
            .order_by(contact_tags.c.tag)
        )
        deferred = await run(
            select(deferred_sends)
            .where(deferred_sends.c.contact_id == contact_id)
            .order_by(deferred_sends.c.created_at, deferred_sends.c.id)
        )
        items = await run(
            select(outbox)
            .where(outbox.c.contact_id == contact_id)
            .order_by(outbox.c.created_at, outbox.c.id)
        )
        flows = await run(
            select(flow_states)
            .where(flow_states.c.contact_id == contact_id)
            .order_by(flow_states.c.updated_at, flow_states.c.conversation_id)
        )
        return ContactData(
            contact=contact,
            conversations=tuple(_conversation(r) for r in convs),
            messages=tuple(msgs),
            consents=tuple(_consent(r) for r in cons),
            tags=tuple(r.tag for r in tags),
            deferred=tuple(_deferred(r) for r in deferred),
            outbox=tuple(_item(r) for r in items),
            flows=tuple(_state(r) for r in flows),
            audit=tuple(
                await self._audit_naming(contact.tenant_id, contact_id, [m.id for m in msgs])
            ),
        )

    async def _audit_naming(
        self, tenant_id: str, contact_id: str, message_ids: Sequence[str]
    ) -> list[AuditEntry]:
        subjects = audit_subjects(contact_id, message_ids)
        found: list[AuditEntry] = []
        for start in range(0, len(subjects), SUBJECTS_PER_QUERY):
            chunk = subjects[start : start + SUBJECTS_PER_QUERY]
            query = select(audit_entries).where(
                audit_entries.c.tenant_id == tenant_id, audit_entries.c.subject.in_(chunk)
            )
            found += [_audit(r) for r in await self._conn.execute(query)]
        return sorted(found, key=lambda e: e.seq)

    async def erase(self, contact_id: str) -> ErasureCounts:
        # Children first: the foreign keys point at conversations and contacts.
        # Handoff rows (agent, times, rating), notes, flow states (collected slots) and
        # journey runs go too, uncounted; business events and attribute values are counted.
        await self._delete(delete(handoffs).where(handoffs.c.contact_id == contact_id))
        their_conversations = select(conversations.c.id).where(
            conversations.c.contact_id == contact_id
        )
        await self._delete(
            delete(conversation_notes).where(
                conversation_notes.c.conversation_id.in_(their_conversations)
            )
        )
        events = await self._delete(
            delete(business_events).where(business_events.c.contact_id == contact_id)
        )
        attributes = await self._delete(
            delete(contact_attributes).where(contact_attributes.c.contact_id == contact_id)
        )
        await self._delete(delete(flow_states).where(flow_states.c.contact_id == contact_id))
        await self._delete(delete(journey_runs).where(journey_runs.c.contact_id == contact_id))
        await self._delete(
            delete(campaign_recipients).where(campaign_recipients.c.contact_id == contact_id)
        )
        return ErasureCounts(
            outbox=await self._delete(delete(outbox).where(outbox.c.contact_id == contact_id)),
            deferred=await self._delete(
                delete(deferred_sends).where(deferred_sends.c.contact_id == contact_id)
            ),
            consents=await self._delete(
                delete(consents).where(consents.c.contact_id == contact_id)
            ),
            tags=await self._delete(
                delete(contact_tags).where(contact_tags.c.contact_id == contact_id)
            ),
            messages=await self._delete(
                delete(messages).where(messages.c.contact_id == contact_id)
            ),
            conversations=await self._delete(
                delete(conversations).where(conversations.c.contact_id == contact_id)
            ),
            contacts=await self._delete(delete(contacts).where(contacts.c.id == contact_id)),
            events=events,
            attributes=attributes,
        )

    async def _delete(self, statement: Delete) -> int:
        return int((await self._conn.execute(statement)).rowcount)
