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

With a sentence encoder, a build reads the tenant's stored vectors first and
stores the ones it had to encode after (:mod:`kindbot.pipeline.decide.stored_vectors`,
its own short transaction; a failure to store is logged, the index served).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial

from kindbot.core.ports.seams import Store
from kindbot.core.records.knowledge import KnowledgeEntry, StoredVector
from kindbot.dialogue.dense import TextEncoder
from kindbot.dialogue.retrieval import KnowledgeIndex
from kindbot.pipeline.decide.stored_vectors import (
    PRUNE_LIMIT,
    StoredVectors,
    entry_texts,
    stored,
    text_digest,
    unpacked,
)
from kindbot.pipeline.supervisor import TaskSupervisor

log = logging.getLogger(__name__)

FULL_BUILD_DELAY_S = 1.0
"""How long after a quick build its full build starts (see :meth:`KnowledgeCache.index_at`)."""


@dataclass(frozen=True, slots=True)
class _Built:
    version: int
    index: KnowledgeIndex
    encoded: int
    """Texts the build had to give the sentence model (none were stored)."""


class KnowledgeCache:
    """Serves the current :class:`KnowledgeIndex` of each tenant.

    ``encoder``: the platform's sentence encoder (the built-in multilingual one,
    or ``KINDBOT_EMBEDDING_MODEL``), given to every build; None = words only.
    """

    def __init__(
        self,
        store: Store,
        *,
        encoder: TextEncoder | None = None,
        supervisor: TaskSupervisor | None = None,
    ) -> None:
        """``supervisor``: owns the background builds that follow a quick first
        one (:meth:`index_at` with ``quick_start``); None = always build in full."""
        self._store = store
        self._encoder = encoder
        self._supervisor = supervisor
        self._built: dict[str, _Built] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def index_for(self, tenant_id: str) -> KnowledgeIndex:
        """The tenant's index at its current version."""
        async with self._store.transaction(readonly=True) as tx:
            version = await tx.knowledge.version(tenant_id)
        return await self.index_at(tenant_id, version)

    async def index_at(
        self, tenant_id: str, version: int, *, quick_start: bool = False
    ) -> KnowledgeIndex:
        """The tenant's index at ``version`` or newer (the caller read the version).

        ``quick_start`` (the message path): when this process has no index of the
        tenant yet, answer with a quick build (no classifier, the built-in
        calibration: a fraction of a second) and make the full one in the
        background; it replaces the quick one when done. Otherwise (and for
        every later version) the caller waits for the full build.
        """
        built = self._built.get(tenant_id)
        if built is not None and built.version >= version:
            return built.index
        lock = self._locks.setdefault(tenant_id, asyncio.Lock())
        async with lock:
            built = self._built.get(tenant_id)
            if built is not None and built.version >= version:
                return built.index
            supervisor = self._supervisor
            cold = built is None and quick_start and supervisor is not None
            if cold and supervisor is not None and not supervisor.closing:
                built = await self._build(tenant_id, quick=True)
                if built.index.provisional and not supervisor.closing:
                    supervisor.spawn(f"kb-build:{tenant_id}", self._complete(tenant_id))
                elif built.index.provisional:  # shutting down: no background work
                    built = await self._build(tenant_id)
            else:
                built = await self._build(tenant_id)
            self._built[tenant_id] = built
            return built.index

    async def _complete(self, tenant_id: str) -> None:
        """Replace a quick build with the full one (unless a newer build came first),
        after :data:`FULL_BUILD_DELAY_S`: the question that made the quick build is
        answered first, not beside a build holding the interpreter."""
        await asyncio.sleep(FULL_BUILD_DELAY_S)
        async with self._locks[tenant_id]:
            current = self._built.get(tenant_id)
            if current is None or not current.index.provisional:
                return
            built = await self._build(tenant_id)
            if built.version >= current.version:
                self._built[tenant_id] = built

    @property
    def encoder(self) -> TextEncoder | None:
        """The sentence encoder every build is given (None: words only)."""
        return self._encoder

    async def encode_ahead(self, tenant_id: str) -> int:
        """Build the tenant's index now, so the vectors of its new texts are stored
        (``kb import`` and ``apply`` after they commit); how many texts the model
        encoded. Without an encoder nothing is done (0)."""
        if self._encoder is None:
            return 0
        await self.index_for(tenant_id)
        built = self._built.get(tenant_id)
        return built.encoded if built is not None else 0

    async def _build(self, tenant_id: str, *, quick: bool = False) -> _Built:
        encoder = self._encoder
        async with self._store.transaction(readonly=True) as tx:
            version = await tx.knowledge.version(tenant_id)
            entries = await tx.knowledge.list(tenant_id)
            synonyms = await tx.kb.synonyms(tenant_id)
            tuning = await tx.kb.tuning(tenant_id)
            rows = await tx.kb.vectors(tenant_id, encoder.name) if encoder is not None else []
        threshold = tuning.threshold if tuning is not None else None
        if encoder is None:
            build = partial(
                KnowledgeIndex.build, entries, synonyms=synonyms, threshold=threshold, quick=quick
            )
            return _Built(version, await asyncio.to_thread(build), 0)
        through = partial(_build_through, entries, synonyms, threshold, encoder, rows, quick)
        index, fresh, stale = await asyncio.to_thread(through)
        await self._keep(tenant_id, version, encoder.name, fresh, stale)
        return _Built(version, index, len(fresh))

    async def _keep(
        self,
        tenant_id: str,
        version: int,
        model: str,
        fresh: list[StoredVector],
        stale: list[str],
    ) -> None:
        """Store what the build encoded and drop (some of) the stale vectors: a cache,
        so a failure is logged and the index still served."""
        if not fresh and not stale:
            return
        try:
            async with self._store.transaction() as tx:
                await tx.kb.add_vectors(tenant_id, model, fresh)
                # Only while the entries are the ones built: a newer version's texts stay.
                if stale and await tx.knowledge.version(tenant_id) == version:
                    await tx.kb.drop_vectors(tenant_id, stale[:PRUNE_LIMIT])
        except Exception:
            log.exception("tenant %s: the knowledge base's vectors were not stored", tenant_id)


def _build_through(
    entries: list[KnowledgeEntry],
    synonyms: list[tuple[str, ...]],
    threshold: float | None,
    encoder: TextEncoder,
    rows: list[StoredVector],
    quick: bool,
) -> tuple[KnowledgeIndex, list[StoredVector], list[str]]:
    """Build with the stored vectors ``rows`` (in a worker thread: hashing and packing
    thousands of texts is CPU work); the index, the vectors the model encoded (to store),
    and the stored digests that are neither a text of ``entries`` nor asked for by the build."""
    known = unpacked(rows)
    through = StoredVectors(encoder, known)
    index = KnowledgeIndex.build(
        entries, synonyms=synonyms, threshold=threshold, encoder=through, quick=quick
    )
    fresh = through.finish()
    current = {text_digest(text) for text in entry_texts(entries)} | fresh.asked
    stale = sorted(digest for digest in known if digest not in current)
    return index, stored(fresh.encoded), stale
