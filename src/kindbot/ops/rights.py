"""Data rights of a contact: export everything stored about them, or erase it.

Export is one JSON document (:func:`export_document`, a pure function of the
stored data). Erasure deletes the contact and every row that belongs to it in
ONE transaction and appends a non-personal ``erasure`` entry (ids, counts,
actor) to the tenant's audit chain in that same transaction.

Existing audit entries are kept unchanged: they reference contacts and
messages by random ids and carry the guard's reasons, never message text, so
once the rows are gone the ids resolve to nothing and the chain still
verifies. (A content-rule denial quotes the matched terms of the bot's own
outbound text, which is the tenant's text; it stays, since editing any entry
would break the chain.)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from kindbot.bundles.tenants import append_audit
from kindbot.contacts.attributes import plain_value
from kindbot.core.ports.seams import Store
from kindbot.core.records.analytics import BusinessEventRecord
from kindbot.core.records.audit import AuditEntry
from kindbot.core.records.directory import ContactAttribute
from kindbot.core.records.handoff import ConversationNote
from kindbot.core.records.operations import ContactData, ErasureCounts
from kindbot.core.records.tenancy import TenantRecord
from kindbot.guard.audit import AuditDraft
from kindbot.guard.audit_export import export_record
from kindbot.ops.consent import Recorder
from kindbot.ops.contacts import ContactRef, find_contact

EXPORT_FORMAT = "kindbot.contact-export/1"
AUDIT_KIND = "erasure"
AUDIT_RULE = "data_rights"


def plain(value: Any) -> Any:
    """A stored record as JSON-ready values: dataclasses as objects, times in UTC ISO-8601."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def export_document(
    data: ContactData,
    tenant: TenantRecord,
    channel: str,
    exported_at: datetime,
    *,
    events: Sequence[BusinessEventRecord] = (),
    notes: Sequence[ConversationNote] = (),
    attributes: Sequence[ContactAttribute] = (),
) -> dict[str, Any]:
    """The export of one contact: every stored row of it, plus the audit entries naming it.

    ``events``: the shop's business events about the contact (orders, refunds …);
    ``notes``: the agents' internal notes on the contact's conversations;
    ``attributes``: its custom attribute values (``[{name, type, value, updated_at}]``,
    numbers as exact decimal strings).
    """
    return {
        "format": EXPORT_FORMAT,
        "exported_at": exported_at.astimezone(UTC).isoformat(),
        "tenant": tenant.slug,
        "channel": channel,
        "contact": plain(data.contact),
        "conversations": plain(data.conversations),
        "messages": plain(data.messages),
        "consents": plain(data.consents),
        "tags": list(data.tags),
        "deferred_sends": plain(data.deferred),
        "outbox": plain(data.outbox),
        "flow_states": plain(data.flows),
        "business_events": plain(tuple(events)),
        "conversation_notes": plain(tuple(notes)),
        "attributes": [
            {
                "name": a.name,
                "type": a.type.value,
                "value": plain_value(a.value),
                "updated_at": plain(a.updated_at),
            }
            for a in attributes
        ],
        "audit_entries": [export_record(e, tenant.slug) for e in data.audit],
    }


async def export_contact(
    store: Store, tenant: TenantRecord, ref: ContactRef, now: datetime
) -> dict[str, Any]:
    """Read everything about the contact at ``ref`` in one read-only transaction."""
    async with store.transaction(readonly=True) as tx:
        _channel, contact = await find_contact(tx, tenant, ref)
        data = await tx.contact_data.export(contact.id)
        assert data is not None, "found in the same transaction"
        events = await tx.events.list_for_contact(contact.id)
        notes = [n for c in data.conversations for n in await tx.notes.for_conversation(c.id)]
        attributes = await tx.attributes.of_contact(contact.id)
    return export_document(
        data, tenant, ref.channel, now, events=events, notes=notes, attributes=attributes
    )


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure removed and the audit entry recording it."""

    contact_id: str
    counts: ErasureCounts
    entry: AuditEntry


async def erase_contact(
    store: Store, tenant: TenantRecord, ref: ContactRef, recorder: Recorder, now: datetime
) -> Erasure:
    """Delete the contact at ``ref`` and everything of it, and audit that, all or nothing.

    The rows are deleted before the chain's head is locked — the order the
    pipeline takes its locks in (rows, then head), so the two never deadlock.
    """
    async with store.transaction() as tx:
        channel, contact = await find_contact(tx, tenant, ref)
        counts = await tx.contact_data.erase(contact.id)
        detail = {
            "actor": recorder.actor,
            "via": recorder.via,
            "channel": channel.local_id,
            "counts": counts.as_dict(),
        }
        entry = await append_audit(
            tx,
            AuditDraft(
                tenant_id=tenant.id,
                at=now,
                kind=AUDIT_KIND,
                subject=f"contact:{contact.id}",
                rule=AUDIT_RULE,
                decision="erase",
                detail=json.dumps(detail, ensure_ascii=False),
            ),
        )
    return Erasure(contact.id, counts, entry)
