"""Per-tenant knowledge indexes, rebuilt when the tenant's KB version changes.

The cache belongs to one container (no process globals). Every lookup reads
the version number (one cheap query), so an import done by another process is
picked up on the next message. Builds run in a worker thread, one at a time
per tenant (single flight).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from kindbot.dialogue.retrieval import KnowledgeIndex
from kindbot.types import Store


@dataclass(frozen=True, slots=True)
class _Built:
    version: int
    index: KnowledgeIndex


class KnowledgeCache:
    """Serves the current :class:`KnowledgeIndex` of each tenant."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._built: dict[str, _Built] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def index_for(self, tenant_id: str) -> KnowledgeIndex:
        """The tenant's index at its current version."""
        async with self._store.transaction() as tx:
            version = await tx.knowledge.version(tenant_id)
        built = self._built.get(tenant_id)
        if built is not None and built.version == version:
            return built.index
        lock = self._locks.setdefault(tenant_id, asyncio.Lock())
        async with lock:
            built = self._built.get(tenant_id)
            if built is not None and built.version == version:
                return built.index
            async with self._store.transaction() as tx:
                version = await tx.knowledge.version(tenant_id)
                entries = await tx.knowledge.list(tenant_id)
            index = await asyncio.to_thread(KnowledgeIndex.build, entries)
            self._built[tenant_id] = _Built(version, index)
            return index
