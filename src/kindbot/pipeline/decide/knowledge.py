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

What a full build learns (the fitted confidence model and classifier,
:mod:`kindbot.dialogue.fitted`) is stored too (``tx.kb.model``), once per version
for every process: the first process to need it takes a lease
(:data:`FIT_LEASE`) and fits; the others answer from a quick build meanwhile and
pick the stored model up when it is there (or take the lease over when it runs
out: its holder died). A build reuses a stored model only when it was fitted on
the same inputs (digest), so a changed tokeniser or sentence model fits anew.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from kindbot.core.ports.seams import Store
from kindbot.core.records.knowledge import KbTuning, KnowledgeEntry, StoredModel, StoredVector
from kindbot.dialogue.dense import TextEncoder
from kindbot.dialogue.fitted import FIT_FORMAT, FittedModel
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


FIT_LEASE = timedelta(minutes=5)
"""How long a process may take to fit a knowledge base before another takes over."""
LEASE_POLL_S = 0.5
"""How often a process waiting for another's fit looks for the stored model."""
WORDS_ONLY = "words"
MODEL_KEY_LIMIT = 100
"""The model key of builds without a sentence encoder (else the encoder's name)."""


@dataclass(frozen=True, slots=True)
class _Built:
    version: int
    index: KnowledgeIndex
    encoded: int
    """Texts the build had to give the sentence model (none were stored)."""
    complete: bool = True
    """False: a quick build that a full one would improve (see :meth:`KnowledgeCache.index_at`)."""


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What one build reads, in one read-only transaction."""

    version: int
    entries: list[KnowledgeEntry]
    synonyms: list[tuple[str, ...]]
    tuning: KbTuning | None
    vectors: list[StoredVector]
    model: StoredModel | None

    @property
    def threshold(self) -> float | None:
        return self.tuning.threshold if self.tuning is not None else None

    def saved(self) -> bool:
        """Whether a model of this version is stored (readable or not)."""
        model = self.model
        return model is not None and model.payload is not None and model.kb_version == self.version

    def fitted(self) -> FittedModel | None:
        """The stored model of this version, if there is a readable one."""
        model = self.model
        if model is None or model.payload is None or model.kb_version != self.version:
            return None
        try:
            return FittedModel.from_bytes(model.payload)
        except ValueError:
            log.warning("a stored knowledge model is unreadable; fitting anew")
            return None


def model_key(encoder: TextEncoder | None) -> str:
    """Which stored model a cache with ``encoder`` uses: per encoder, fit format and
    kindbot version (an upgrade fits anew; the inputs digest guards the rest)."""
    name = encoder.name if encoder is not None else WORDS_ONLY
    key = f"{name}/fit{FIT_FORMAT}/{importlib.metadata.version('kindbot')}"
    return key if len(key) <= MODEL_KEY_LIMIT else hashlib.sha256(key.encode()).hexdigest()


def _process_holder() -> str:
    """Who holds a fit lease: this host and process, and a random part per cache."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


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
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``supervisor``: owns the background builds that follow a quick one
        (:meth:`index_at`); None = always build in full here. ``now``: the wall
        clock the fit leases are timed by."""
        self._store = store
        self._encoder = encoder
        self._supervisor = supervisor
        self._now = now
        self._holder = _process_holder()
        self._model_key = model_key(encoder)
        self._built: dict[str, _Built] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fits = 0
        """Full builds that fitted their model here (the others used a stored one)."""

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
        every later version) the caller waits for the full build — unless
        another process is fitting it: then this one answers from a quick build
        until the stored model is there.
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
            background = supervisor is not None and not supervisor.closing
            cold = built is None and quick_start and background
            built = await self._build(tenant_id, quick=cold, wait=not background)
            if not built.complete and supervisor is not None and not supervisor.closing:
                supervisor.spawn(f"kb-build:{tenant_id}", self._complete(tenant_id))
            elif not built.complete:  # shutting down: no background work
                built = await self._build(tenant_id, wait=True)
            self._built[tenant_id] = built
            return built.index

    async def _complete(self, tenant_id: str) -> None:
        """Replace a quick build with the full one (unless a newer build came first),
        after :data:`FULL_BUILD_DELAY_S`: the question that made the quick build is
        answered first, not beside a build holding the interpreter. While another
        process fits the model, look again every :data:`LEASE_POLL_S`."""
        await asyncio.sleep(FULL_BUILD_DELAY_S)
        while True:
            async with self._locks[tenant_id]:
                current = self._built.get(tenant_id)
                if current is None or current.complete:
                    return
                built = await self._build(tenant_id)
                if built.version >= current.version:
                    self._built[tenant_id] = built
                if built.complete:
                    return
            await asyncio.sleep(LEASE_POLL_S)

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

    async def _build(self, tenant_id: str, *, quick: bool = False, wait: bool = False) -> _Built:
        """A quick build, or a full one with the stored model (or fitted here under
        the lease). Without ``wait``, a full build whose model another process is
        fitting comes back quick (``complete`` False); with it, this process waits
        for that model, or fits it when the lease runs out."""
        snapshot = await self._read(tenant_id)
        if quick:
            return await self._assemble(tenant_id, snapshot, quick=True)
        fitted = snapshot.fitted()
        if fitted is None and snapshot.saved():  # stored, but this code cannot read it
            self.fits += 1
            return await self._assemble(tenant_id, snapshot)
        while fitted is None and not await self._claim(tenant_id, snapshot.version):
            if not wait:
                return await self._assemble(tenant_id, snapshot, quick=True)
            await asyncio.sleep(LEASE_POLL_S)
            snapshot = await self._read(tenant_id)
            fitted = snapshot.fitted()
        built = await self._assemble(tenant_id, snapshot, fitted=fitted)
        learned = built.index.fitted
        if fitted is None and learned is not None:
            self.fits += 1
            await self._save(tenant_id, snapshot.version, learned)
        return built

    async def _read(self, tenant_id: str) -> _Snapshot:
        encoder = self._encoder
        async with self._store.transaction(readonly=True) as tx:
            version = await tx.knowledge.version(tenant_id)
            entries = await tx.knowledge.list(tenant_id)
            synonyms = await tx.kb.synonyms(tenant_id)
            tuning = await tx.kb.tuning(tenant_id)
            rows = await tx.kb.vectors(tenant_id, encoder.name) if encoder is not None else []
            model = await tx.kb.model(tenant_id, self._model_key)
        return _Snapshot(version, entries, synonyms, tuning, rows, model)

    async def _assemble(
        self,
        tenant_id: str,
        snapshot: _Snapshot,
        *,
        quick: bool = False,
        fitted: FittedModel | None = None,
    ) -> _Built:
        """Build the index of ``snapshot`` in a worker thread."""
        encoder = self._encoder
        entries, synonyms, threshold = snapshot.entries, snapshot.synonyms, snapshot.threshold
        if encoder is None:
            build = partial(
                KnowledgeIndex.build,
                entries,
                synonyms=synonyms,
                threshold=threshold,
                quick=quick,
                fitted=fitted,
            )
            index = await asyncio.to_thread(build)
            return _Built(snapshot.version, index, 0, not index.provisional)
        through = partial(
            _build_through, entries, synonyms, threshold, encoder, snapshot.vectors, quick, fitted
        )
        index, fresh, stale = await asyncio.to_thread(through)
        await self._keep(tenant_id, snapshot.version, encoder.name, fresh, stale)
        return _Built(snapshot.version, index, len(fresh), not index.provisional)

    async def _claim(self, tenant_id: str, version: int) -> bool:
        """Take the lease to fit ``version`` (True), or learn that another process has it."""
        now = self._now()
        async with self._store.transaction() as tx:
            return await tx.kb.claim_model(
                tenant_id, self._model_key, version, self._holder, now, now + FIT_LEASE
            )

    async def _save(self, tenant_id: str, version: int, fitted: FittedModel) -> None:
        """Store what this process fitted (a cache: a failure is logged, the index served)."""
        payload = await asyncio.to_thread(fitted.to_bytes)
        try:
            async with self._store.transaction() as tx:
                await tx.kb.save_model(tenant_id, self._model_key, version, self._holder, payload)
        except Exception:
            log.exception("tenant %s: the fitted knowledge model was not stored", tenant_id)

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
    fitted: FittedModel | None,
) -> tuple[KnowledgeIndex, list[StoredVector], list[str]]:
    """Build with the stored vectors ``rows`` (in a worker thread: hashing and packing
    thousands of texts is CPU work); the index, the vectors the model encoded (to store),
    and the stored digests that are neither a text of ``entries`` nor asked for by the build."""
    known = unpacked(rows)
    through = StoredVectors(encoder, known)
    index = KnowledgeIndex.build(
        entries, synonyms=synonyms, threshold=threshold, encoder=through, quick=quick, fitted=fitted
    )
    fresh = through.finish()
    current = {text_digest(text) for text in entry_texts(entries)} | fresh.asked
    stale = sorted(digest for digest in known if digest not in current)
    return index, stored(fresh.encoded), stale
