"""Repository Protocols of the contact directory (issue 16 §2): attributes, the
contact list and a contact's timeline.

Contract module; assembled into :class:`kindbot.core.ports.seams.Transaction`
as ``tx.attributes``, ``tx.directory`` and ``tx.timeline``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kindbot.core.records.directory import (
    AttributeChange,
    AttributeDefinition,
    ContactAttribute,
    ContactSearch,
    DefinitionSync,
    DirectoryRow,
    TimelineCursor,
    TimelineItem,
)


class AttributeRepository(Protocol):
    """A tenant's declared attributes and its contacts' typed values."""

    async def definitions(self, tenant_id: str) -> list[AttributeDefinition]:
        """The tenant's declarations, in the bundle's order."""
        ...

    async def replace_definitions(
        self, tenant_id: str, definitions: Sequence[AttributeDefinition]
    ) -> DefinitionSync:
        """Make ``definitions`` the tenant's declarations; values of attributes no longer
        declared, or declared with another type, are deleted."""
        ...

    async def of_contact(self, contact_id: str) -> list[ContactAttribute]:
        """The contact's values, by name."""
        ...

    async def apply(
        self, tenant_id: str, contact_id: str, changes: Sequence[AttributeChange], now: datetime
    ) -> None:
        """Set each change's value (replacing any) or delete it (``value`` None)."""
        ...

    async def erase_contact(self, contact_id: str) -> int:
        """Delete every value of the contact; how many there were."""
        ...


class DirectoryRepository(Protocol):
    """The contact list: one statement per page, evaluated in SQL."""

    async def search(self, search: ContactSearch) -> list[DirectoryRow]:
        """Up to ``search.limit`` rows after ``search.after`` in ``search.sort`` order
        (ties broken by contact id), with their tags."""
        ...


class TimelineRepository(Protocol):
    """A contact's history, merged from every table that records something of it."""

    async def page(
        self, tenant_id: str, contact_id: str, before: TimelineCursor | None, limit: int
    ) -> list[TimelineItem]:
        """Up to ``limit`` items older than ``before`` (all when None), newest first,
        ordered by (time, kind, id) descending."""
        ...
