"""Repository Protocols of the ledgers: the hash-chained audit log and the consent ledger.

Contract module (imports only records). Assembled into
:class:`kindbot.core.ports.seams.Transaction` as ``audit`` and ``consents``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kindbot.core.records.audit import (
    AuditDraft,
    AuditEntry,
    AuditFacets,
    AuditFilter,
    AuditHead,
    SealedPending,
)
from kindbot.core.records.consent import ConsentRecord


class AuditRepository(Protocol):
    """The append-only, hash-chained audit log, one chain per tenant.

    Writers add entries *pending* (no head, no lock); sealing chains a tenant's
    pending entries in insertion order under its head's lock
    (``guard/audit_sequencer.py``). Readers seal first, so they see every
    committed entry.
    """

    async def add_pending(self, drafts: Sequence[AuditDraft]) -> None:
        """Store entries for the sequencer to chain (one multi-row INSERT, no lock)."""
        ...

    async def add_pending_entry(self, draft: AuditDraft) -> int:
        """Store one entry for the sequencer to chain; its pending id."""
        ...

    async def pending_tenants(self, limit: int) -> list[str]:
        """Up to ``limit`` chains that have pending entries."""
        ...

    async def seal_pending(
        self, tenant_id: str, *, limit: int = ..., skip_locked: bool = False
    ) -> list[SealedPending] | None:
        """Chain up to ``limit`` of the tenant's pending entries (oldest first) after its
        head, holding the head locked until the transaction ends; what was sealed, in
        chain order. ``skip_locked``: None at once when another transaction holds the
        head (it is sealing them) instead of waiting for it."""
        ...

    async def seal_now(self, tenant_id: str) -> None:
        """Seal every pending entry of the tenant before reading it (in this transaction,
        or — read-only — in transactions of their own, then seen by this one)."""
        ...

    async def head(self, tenant_id: str) -> AuditHead:
        """The chain's end as last sealed (seq 0 when empty); not locked."""
        ...

    async def entries(self, tenant_id: str, after_seq: int, limit: int) -> list[AuditEntry]:
        """Sealed entries after ``after_seq`` in chain order (pending ones sealed first)."""
        ...

    async def newest(
        self, tenant_id: str, where: AuditFilter, *, before_seq: int | None, limit: int
    ) -> list[AuditEntry]:
        """Up to ``limit`` sealed entries matching ``where``, newest first, all before
        ``before_seq`` when given (keyset paging); pending ones sealed first."""
        ...

    async def facets(self, tenant_id: str) -> AuditFacets:
        """The distinct kinds and decisions of the tenant's sealed entries."""
        ...


class ConsentRepository(Protocol):
    """The consent ledger."""

    async def grant(
        self,
        *,
        tenant_id: str,
        contact_id: str,
        channel_id: str,
        topic: str,
        source: str,
        wording: str,
        now: datetime,
    ) -> ConsentRecord: ...

    async def withdraw_all(self, contact_id: str, now: datetime) -> int:
        """Withdraw every active consent of the contact; returns how many."""
        ...

    async def active(self, contact_id: str) -> list[ConsentRecord]: ...

    async def active_for(
        self, contact_id: str, channel_id: str, topic: str
    ) -> ConsentRecord | None:
        """The contact's active consent to ``topic`` on ``channel_id`` (latest), if any."""
        ...

    async def holders(self, tenant_id: str, topic: str) -> dict[tuple[str, str], str]:
        """Every active consent to ``topic`` of the tenant: (contact, channel) → wording."""
        ...

    async def withdraw(self, contact_id: str, topic: str, now: datetime) -> int:
        """Withdraw the contact's active consents to one topic; returns how many."""
        ...

    async def for_contact(self, contact_id: str) -> list[ConsentRecord]:
        """Every consent record of the contact, active or withdrawn (data export)."""
        ...
