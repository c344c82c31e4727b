"""Repository Protocol of segments: saved definitions, and members evaluated in SQL.

Contract module. Membership is always evaluated by the database, in one
statement per call, from a :class:`~kindbot.core.records.segments.SegmentQuery`
whose values are absolute (UTC instants, minor units).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from kindbot.core.records.segments import SegmentMember, SegmentQuery, SegmentRecord


class SegmentRepository(Protocol):
    """A tenant's saved segments (unique by name) and segment membership."""

    async def create(
        self, tenant_id: str, name: str, definition_json: str, created_by: str, now: datetime
    ) -> SegmentRecord | None:
        """Save a new segment; None when the tenant already has one of that name
        (``ON CONFLICT DO NOTHING``: concurrent creations never raise)."""
        ...

    async def get(self, tenant_id: str, name: str) -> SegmentRecord | None:
        """The tenant's segment called ``name``."""
        ...

    async def of_tenant(self, tenant_id: str) -> list[SegmentRecord]:
        """The tenant's segments by name."""
        ...

    async def update(
        self, tenant_id: str, name: str, definition_json: str, now: datetime
    ) -> SegmentRecord | None:
        """Replace the definition; None when there is no such segment."""
        ...

    async def delete(self, tenant_id: str, name: str) -> bool:
        """Delete the segment; False when there was none."""
        ...

    def check(self, query: SegmentQuery) -> None:
        """Raise :class:`~kindbot.core.errors.BadRequestError` if the query has a
        condition this backend cannot evaluate (no I/O)."""
        ...

    async def count(self, query: SegmentQuery) -> int:
        """How many contacts are members."""
        ...

    async def sample(self, query: SegmentQuery, limit: int) -> list[SegmentMember]:
        """The first ``limit`` members by contact id."""
        ...

    async def has_member(self, query: SegmentQuery, contact_id: str) -> bool:
        """Whether the contact is a member (a journey's condition at fire time)."""
        ...

    async def member_ids(self, query: SegmentQuery, after: str | None, limit: int) -> list[str]:
        """Up to ``limit`` member ids greater than ``after`` (None: from the first), in
        id order: a caller pages through every member with the last id it got."""
        ...
