"""What journeys need from storage (``tx.journeys``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kindbot.core.records.journeys import (
    JourneyDefinition,
    JourneyRecord,
    JourneyRun,
    NewJourneyRun,
    RunStatus,
    TriggerSeen,
)


class JourneyRepository(Protocol):
    """A shop's journeys and each contact's run of one (at most one per contact)."""

    async def get(self, tenant_id: str, name: str) -> JourneyRecord | None:
        """The tenant's journey ``name`` (enabled or not)."""
        ...

    async def list_for_tenant(self, tenant_id: str) -> list[JourneyRecord]:
        """The tenant's journeys by name (withdrawn ones too)."""
        ...

    async def enabled(self) -> list[JourneyRecord]:
        """Every tenant's enabled journeys."""
        ...

    async def put(
        self, tenant_id: str, definition: JourneyDefinition, now: datetime
    ) -> JourneyRecord:
        """Create or replace (and enable) the journey of that name; a changed trigger (or a
        withdrawn journey declared again) is declared anew at ``now``."""
        ...

    async def disable(self, journey_id: str, now: datetime) -> int:
        """Withdraw the journey and cancel its scheduled runs; how many were cancelled."""
        ...

    async def triggers(
        self, journey: JourneyRecord, since: datetime, until: datetime, limit: int
    ) -> list[TriggerSeen]:
        """Contacts without a run of ``journey`` whose trigger happened in ``[since, until)``
        (each with its earliest such trigger); for a tag, every contact holding it."""
        ...

    async def mark_tagged_before(self, journey: JourneyRecord, now: datetime) -> int:
        """Record a skipped run for every contact already holding the journey's tag."""
        ...

    async def add_runs(self, runs: Sequence[NewJourneyRun]) -> None:
        """Store runs; one for a contact that already has a run of the journey is ignored."""
        ...

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[JourneyRun]:
        """Scheduled runs due by ``now`` and not leased, leased until ``lease_until``."""
        ...

    async def settle(
        self,
        run_id: str,
        status: RunStatus,
        *,
        reason: str | None,
        message_id: str | None,
        at: datetime,
    ) -> None:
        """Record how a run ended (and release its lease)."""
        ...

    async def runs(self, journey_id: str, status: RunStatus | None, limit: int) -> list[JourneyRun]:
        """The journey's runs, latest due first (of one status when given)."""
        ...

    async def counts(self, tenant_id: str) -> dict[str, dict[RunStatus, int]]:
        """Per journey id, how many runs are in each status."""
        ...

    async def erase_contact(self, contact_id: str) -> int:
        """Delete the contact's runs (erasure); how many."""
        ...
