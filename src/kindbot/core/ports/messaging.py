"""Repository Protocols: what storage offers each layer, one Protocol per aggregate.

Contract module (imports only other contract modules). ``kindbot.core.ports.seams``
assembles them into a :class:`kindbot.core.ports.seams.Transaction`; ``kindbot.storage``
implements them for SQLite and PostgreSQL, checked by one contract suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kindbot.core.events import InboundEvent
from kindbot.core.records.conversations import (
    ContactRecord,
    ContactSource,
    ConversationActivity,
    ConversationRecord,
    ConversationState,
    FinishedInbound,
    InboundOpening,
    MessageRecord,
)
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord, TenantStatus


class TenantRepository(Protocol):
    """Tenants, keyed by id and by unique slug."""

    async def get(self, tenant_id: str) -> TenantRecord | None: ...
    async def get_by_slug(self, slug: str) -> TenantRecord | None: ...
    async def list(self) -> list[TenantRecord]: ...

    async def upsert(
        self,
        *,
        slug: str,
        name: str,
        industry: str,
        timezone: str,
        language: str,
        kb_threshold: float | None,
        now: datetime,
    ) -> tuple[TenantRecord, bool]:
        """Create the tenant or update its fields; True when created.

        A new tenant starts ``pending`` (it may message only its test contacts
        until a platform admin approves it); the status of an existing tenant
        is never changed by an upsert. Fields equal to the stored ones write
        nothing (the tenant's revision stays).
        """
        ...

    async def set_status(self, tenant_id: str, status: TenantStatus) -> None: ...

    async def set_guard(self, tenant_id: str, guard_json: str | None) -> None:
        """Store the tenant's guard settings (validated by the caller)."""
        ...

    async def set_handlers(self, tenant_id: str, modules: Sequence[str]) -> None:
        """Name the tenant's handler modules (empty: none)."""
        ...

    async def set_service_hours(self, tenant_id: str, hours_json: str | None) -> None:
        """Store the tenant's ``service_hours:`` as JSON (None: not configured)."""
        ...

    async def set_llm(self, tenant_id: str, llm_sealed: str | None) -> None:
        """Store the tenant's sealed ``llm:`` settings (None: generative answers off)."""
        ...

    async def set_standing(self, tenant_id: str, standing: str) -> None:
        """Record the tenant's violation standing (``ok``, ``warning``, ``throttled``)."""
        ...


class ChannelRepository(Protocol):
    """Channels; ``public_id`` is unique across tenants."""

    async def get(self, channel_id: str) -> ChannelRecord | None: ...
    async def get_by_public_id(self, public_id: str) -> ChannelRecord | None: ...
    async def list_for_tenant(self, tenant_id: str) -> list[ChannelRecord]: ...

    async def upsert(
        self, *, tenant_id: str, public_id: str, local_id: str, kind: str, config_sealed: str
    ) -> tuple[ChannelRecord, bool]:
        """Create or update a channel by ``public_id``; True when created.

        Raises ``ValueError`` if ``public_id`` belongs to another tenant.
        """
        ...

    async def set_enabled(self, channel_id: str, enabled: bool) -> bool:
        """Enable or disable a channel (a disabled one is unknown to callbacks and the
        outbox); False when there is no such channel."""
        ...


class ContactRepository(Protocol):
    """End users per channel, keyed by (channel, external id)."""

    async def get(self, contact_id: str) -> ContactRecord | None: ...

    async def get_or_create(
        self,
        *,
        tenant_id: str,
        channel_id: str,
        external_id: str,
        display_name: str | None,
        now: datetime,
    ) -> ContactRecord: ...

    async def find(self, channel_id: str, external_id: str) -> ContactRecord | None: ...

    async def ensure_many(
        self,
        *,
        tenant_id: str,
        channel_id: str,
        external_ids: Sequence[str],
        source: ContactSource,
        now: datetime,
    ) -> dict[str, str]:
        """The contact id of each external id on the channel, creating the missing contacts.

        Created contacts carry ``source`` and nothing else: no name, no consent,
        not test contacts. Safe against concurrent creation (conflicts are ignored).
        """
        ...

    async def set_followed(self, contact_id: str, followed: bool, at: datetime) -> None:
        """Record that the contact (un)followed the account; unfollowed contacts get nothing."""
        ...

    async def set_opted_out(self, contact_id: str, at: datetime | None) -> None:
        """Record the contact's own opt-out message (``at``) or opt-in keyword (None)."""
        ...

    async def mark_test(
        self, *, tenant_id: str, channel_id: str, external_id: str, now: datetime
    ) -> tuple[ContactRecord, bool]:
        """Make (channel, external id) a test contact, creating the contact if missing.

        A pending tenant may message only its test contacts. True when this
        call changed anything (created the contact or flipped ``is_test``).
        """
        ...

    async def unmark_test(self, contact_id: str) -> None:
        """Make a test contact an ordinary one again."""
        ...

    async def list_test(self, tenant_id: str) -> list[ContactRecord]:
        """The tenant's test contacts."""
        ...


class ConversationRepository(Protocol):
    """At most one conversation per (channel, contact) that is not resolved."""

    async def get(self, conversation_id: str) -> ConversationRecord | None: ...

    async def get_or_open(
        self, *, tenant_id: str, channel_id: str, contact_id: str, now: datetime
    ) -> ConversationRecord: ...

    async def find_open(self, channel_id: str, contact_id: str) -> ConversationRecord | None:
        """The contact's open conversation on the channel, if there is one."""
        ...

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
        """The sender's contact and open conversation, for an inbound message —
        both created when missing (the contact named ``display_name``) — and,
        read by the same statement, the tenant's current revision, the bot's
        last ``recent`` texts in the conversation and its flow state.

        The conversation's last inbound time moves to ``at`` unless the message
        with ``idempotency_key`` is already stored on the channel (a duplicate);
        the record returned has the new time. The revision
        (``tenants.revision``) tells the caller whether what it cached of the
        tenant is still current (:mod:`kindbot.pipeline.tenant_cache`). One
        statement for a known contact with an open conversation.
        """
        ...

    async def touch_inbound(self, conversation_id: str, at: datetime) -> None: ...
    async def set_state(self, conversation_id: str, state: ConversationState) -> None: ...


class MessageRepository(Protocol):
    """Messages in both directions; inbound ones are unique per idempotency key."""

    async def insert_inbound(
        self,
        *,
        event: InboundEvent,
        tenant_id: str,
        channel_id: str,
        contact_id: str,
        conversation_id: str,
    ) -> tuple[MessageRecord, bool]:
        """Store an inbound message once; returns the row and True when new.

        A second insert with the same (channel, idempotency key) returns the
        existing row and False, never a second row. Keys of any length are
        accepted and compared whole (stored as a fixed-length digest).
        """
        ...

    async def find_inbound(self, channel_id: str, idempotency_key: str) -> MessageRecord | None:
        """The inbound message stored under this key on this channel, if any."""
        ...

    async def lock_inbound(self, message_id: str) -> MessageRecord:
        """Re-read an inbound message, holding a row lock until the transaction ends."""
        ...

    async def finish_inbound(
        self, message: MessageRecord, *, kb_asked: bool, since: datetime
    ) -> FinishedInbound | None:
        """Mark the inbound message processed unless it already was; the row, with
        what its outcome reads (one statement): the conversation's state, the
        contact's open satisfaction question and the guard's counts (bot messages
        since ``since`` and answering this message).

        One conditional update instead of :meth:`lock_inbound` then
        :meth:`mark_processed`: the row stays locked until the transaction
        ends, so a concurrent pass waits and then finds it processed. None:
        another pass processed it first (nothing changed). ``kb_asked``: as
        for :meth:`mark_processed`.
        """
        ...

    async def mark_processed(self, message_id: str, *, kb_asked: bool = False) -> None:
        """Record the inbound message as processed.

        ``kb_asked``: its text was searched in the knowledge base as a question
        (what ``kb unanswered`` reviews; flow answers, opt-out words, picks,
        person requests, phone numbers and texts without a letter are not).
        """
        ...

    async def insert_outbound(
        self,
        *,
        tenant_id: str,
        channel_id: str,
        contact_id: str,
        conversation_id: str,
        text: str,
        reply_to_id: str | None,
        generated: bool,
        now: datetime,
        source_entry_ids: Sequence[str] = (),
        origin: str | None = None,
    ) -> MessageRecord:
        """Store a bot message (``pending``); ``source_entry_ids``: a generated reply's sources;
        ``origin``: where it came from (a ``ReplyOrigin`` value: knowledge, fallback, agent …)."""
        ...

    async def count_outbound(self, conversation_id: str) -> int: ...

    async def recent_outbound_texts(self, conversation_id: str, limit: int) -> list[str]:
        """The texts of the bot's last ``limit`` messages in the conversation, newest first."""
        ...

    async def activity(
        self, conversation_id: str, *, reply_to_id: str | None, since: datetime
    ) -> ConversationActivity:
        """The conversation's counts for the window and reply-burst rules."""
        ...

    async def history_for_contact(self, contact_id: str, limit: int) -> list[MessageRecord]:
        """The contact's newest ``limit`` messages across conversations, oldest first."""
        ...

    async def replies_to(self, message_id: str) -> list[MessageRecord]:
        """Outbound messages answering ``message_id``, in the order they were made."""
        ...

    async def history(self, conversation_id: str, limit: int) -> list[MessageRecord]:
        """The newest ``limit`` messages, returned oldest first."""
        ...

    async def unprocessed_inbound(self, before: datetime, limit: int) -> list[MessageRecord]:
        """Inbound messages still ``received`` that were stored before ``before``."""
        ...
