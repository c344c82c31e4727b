"""Stored records of the REST API and the data-rights features.

Contract module: imports only other records. Kept apart from
``records.py`` so that the API's records change without touching the records
every layer reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kindbot.core.records.audit import AuditEntry
from kindbot.core.records.consent import ConsentRecord
from kindbot.core.records.conversations import ContactRecord, ConversationRecord, MessageRecord
from kindbot.core.records.flows import FlowState
from kindbot.core.records.outbox import DeferredSend, OutboxItem


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """A tenant's API key as stored: never the key itself, only its SHA-256.

    ``prefix`` is the key's public, unique start (shown in listings and used
    to find the row); ``key_hash`` is the hex SHA-256 of the whole key.
    """

    id: str
    tenant_id: str
    prefix: str
    key_hash: str
    label: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """True until revoked."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class ContactData:
    """Everything kindbot stores about one contact (the data-export document).

    ``audit`` holds the audit entries that name the contact or one of its
    messages (they carry ids and the guard's reasons, never message text).
    """

    contact: ContactRecord
    conversations: tuple[ConversationRecord, ...]
    messages: tuple[MessageRecord, ...]
    consents: tuple[ConsentRecord, ...]
    tags: tuple[str, ...]
    deferred: tuple[DeferredSend, ...]
    outbox: tuple[OutboxItem, ...]
    audit: tuple[AuditEntry, ...]
    flows: tuple[FlowState, ...] = ()
    """Where the contact's conversations are in a multi-turn flow (the slots collected)."""


@dataclass(frozen=True, slots=True)
class ErasureCounts:
    """How many rows an erasure removed, per kind (no personal data)."""

    messages: int
    conversations: int
    consents: int
    tags: int
    deferred: int
    outbox: int
    contacts: int
    events: int = 0
    """The contact's business events (orders, refunds …)."""
    attributes: int = 0
    """The contact's custom attribute values."""

    def as_dict(self) -> dict[str, int]:
        """The counts by name, for audit details and responses."""
        return {
            "messages": self.messages,
            "conversations": self.conversations,
            "consents": self.consents,
            "tags": self.tags,
            "deferred": self.deferred,
            "outbox": self.outbox,
            "contacts": self.contacts,
            "events": self.events,
            "attributes": self.attributes,
        }
