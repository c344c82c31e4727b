"""Per-tenant knowledge indexes, rebuilt when the tenant's KB version changes.

The cache belongs to one container (no process globals). Callers pass the
version they read in their own transaction (the pipeline reads it with the
inbound message), so an import done by another process is picked up on the
next message without an extra round trip. Every knowledge-base change (an
entry, a synonym group, a tuned threshold) bumps the version, so the index —
rankers, classifier and calibration — is retrained after every edit. Builds
run in a worker thread, one at a time per tenant (single flight); a caller
that read the new version waits for the build (``bench/README.md`` has the
rebuild times), one that read an older version gets the index already built.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial

from kindbot.dialogue.dense import TextEncoder
from kindbot.dialogue.retrieval import KnowledgeIndex
from kindbot.types import Store


@dataclass(frozen=True, slots=True)
class _Built:
    version: int
    index: KnowledgeIndex


class KnowledgeCache:
    """Serves the current :class:`KnowledgeIndex` of each tenant.

    ``encoder``: the platform's sentence encoder (``KINDBOT_EMBEDDING_MODEL``),
    given to every build; None = words only.
    """

    def __init__(self, store: Store, *, encoder: TextEncoder | None = None) -> None:
        self._store = store
        self._encoder = encoder
        self._built: dict[str, _Built] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def index_for(self, tenant_id: str) -> KnowledgeIndex:
        """The tenant's index at its current version."""
        async with self._store.transaction(readonly=True) as tx:
            version = await tx.knowledge.version(tenant_id)
        return await self.index_at(tenant_id, version)

    async def index_at(self, tenant_id: str, version: int) -> KnowledgeIndex:
        """The tenant's index at ``version`` or newer (the caller read the version)."""
        built = self._built.get(tenant_id)
        if built is not None and built.version >= version:
            return built.index
        lock = self._locks.setdefault(tenant_id, asyncio.Lock())
        async with lock:
            built = self._built.get(tenant_id)
            if built is not None and built.version >= version:
                return built.index
            async with self._store.transaction(readonly=True) as tx:
                version = await tx.knowledge.version(tenant_id)
                entries = await tx.knowledge.list(tenant_id)
                synonyms = await tx.kb.synonyms(tenant_id)
                tuning = await tx.kb.tuning(tenant_id)
            build = partial(
                KnowledgeIndex.build,
                entries,
                synonyms=synonyms,
                threshold=tuning.threshold if tuning is not None else None,
                encoder=self._encoder,
            )
            index = await asyncio.to_thread(build)
            self._built[tenant_id] = _Built(version, index)
            return index
