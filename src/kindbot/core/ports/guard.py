"""Repository Protocols of the guard's ledgers and the moderation lexicon (a contract module).

Counters, contact tags, bulk planning reads, broadcasts, deferred sends,
violations and moderation terms; assembled into :class:`kindbot.core.ports.seams.Transaction`
with the core repositories of :mod:`kindbot.core.ports.messaging`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kindbot.core.records.campaigns import BroadcastRecord, BroadcastStatus, PlanContact
from kindbot.core.records.counters import CounterLimit
from kindbot.core.records.moderation import ModerationTerm, TermAction
from kindbot.core.records.outbox import DeferredSend, DeferredStatus
from kindbot.core.records.violations import ViolationRecord


class CounterRepository(Protocol):
    """Guard counters in the database (the default ``SendCounters``, see core.ports.seams)."""

    async def peek(self, keys: Sequence[str]) -> list[int]:
        """Current counts (0 for unknown keys), in the order of ``keys``."""
        ...

    async def reserve(self, limits: Sequence[CounterLimit]) -> str | None:
        """Add one to every key if each stays within its limit; else change nothing.

        Returns None when reserved, or the first key that was at its limit.
        """
        ...

    async def release(self, keys: Sequence[str]) -> None:
        """Take back one reserved unit of each key (never below zero)."""
        ...


class TagRepository(Protocol):
    """Tags on contacts (set by the tenant; broadcasts address a tag)."""

    async def add(self, tenant_id: str, contact_id: str, tag: str) -> bool:
        """Tag a contact; False when it already had the tag."""
        ...

    async def remove(self, contact_id: str, tag: str) -> bool: ...

    async def contacts_with(self, tenant_id: str, tag: str) -> list[str]:
        """Ids of the tenant's contacts carrying ``tag``."""
        ...

    async def of_contact(self, contact_id: str) -> list[str]: ...


class PlanningRepository(Protocol):
    """Bulk reads for guard planning over many recipients."""

    async def plan_contacts(self, tenant_id: str, contact_ids: Sequence[str]) -> list[PlanContact]:
        """What planning needs of each listed contact (unknown ids are left out)."""
        ...


class BroadcastRepository(Protocol):
    """Broadcasts and their approval."""

    async def create(
        self,
        *,
        tenant_id: str,
        topic: str,
        text: str,
        tag: str,
        recipients: int,
        status: BroadcastStatus,
        created_by: str,
        now: datetime,
    ) -> BroadcastRecord: ...

    async def get(self, broadcast_id: str) -> BroadcastRecord | None: ...

    async def approve(self, broadcast_id: str, approved_by: str) -> bool:
        """Mark an awaiting broadcast approved and sent; False if it was not awaiting."""
        ...


class DeferredSendRepository(Protocol):
    """Proactive sends waiting for their time (quiet hours, rate limits)."""

    async def add(
        self,
        *,
        tenant_id: str,
        channel_id: str,
        contact_id: str,
        topic: str,
        text: str,
        broadcast_id: str | None,
        due_at: datetime,
        now: datetime,
    ) -> DeferredSend: ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[DeferredSend]:
        """Due waiting sends, leased so that no other worker takes them meanwhile."""
        ...

    async def settle(self, deferred_id: str, status: DeferredStatus) -> None:
        """The send was made or finally refused."""
        ...

    async def postpone(self, deferred_id: str, due_at: datetime) -> None:
        """Still deferred: wait until ``due_at`` (attempts + 1)."""
        ...

    async def waiting_for_tenant(self, tenant_id: str) -> list[DeferredSend]: ...


class ViolationRepository(Protocol):
    """Denials with a severity, summed into the tenant's rolling score."""

    async def record(
        self, *, tenant_id: str, at: datetime, rule: str, severity: str, weight: int, subject: str
    ) -> None: ...

    async def score(self, tenant_id: str, since: datetime) -> int:
        """The sum of the weights recorded at or after ``since``."""
        ...

    async def forgive(self, tenant_id: str) -> int:
        """Take every counted violation of the tenant out of its score (on reinstatement).

        The rows stay (the record of what happened); returns how many.
        """
        ...

    async def recent(self, tenant_id: str, limit: int) -> list[ViolationRecord]:
        """The tenant's last ``limit`` violations, newest first (forgiven ones included)."""
        ...


class ModerationTermRepository(Protocol):
    """Moderation lexicon edits of the platform (``tenant_id`` None) and of tenants.

    Every change bumps the generation of its scope (``"platform"`` or the
    tenant id), so screeners can notice edits with one cheap query.
    """

    async def in_scope(self, tenant_id: str | None) -> list[ModerationTerm]:
        """The platform's terms (None) or one tenant's, oldest first."""
        ...

    async def all(self) -> list[ModerationTerm]:
        """Every term of the platform and of all tenants."""
        ...

    async def add(
        self,
        *,
        tenant_id: str | None,
        term: str,
        category: str | None,
        action: TermAction,
        created_by: str,
        now: datetime,
    ) -> ModerationTerm | None:
        """Store a term; None when the same term already exists in that scope."""
        ...

    async def remove(self, tenant_id: str | None, term: str) -> int:
        """Delete the term from that scope; how many rows went."""
        ...

    async def generations(self) -> dict[str, int]:
        """The current generation of every scope that was ever edited."""
        ...
