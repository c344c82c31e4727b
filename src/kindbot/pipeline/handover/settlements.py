"""Group commit of hand-over settlements: many responses' confirmations in one transaction.

After a callback's response was sent, its hand-over is *confirmed* (the
claimed replies ``handed_over → delivered``, their messages too); if the
caller was gone, it is *given back* (``pending``, due at once). Each used to
be a writing transaction of its own per message. :class:`SettlementWriter`
takes them from a bounded queue instead: one owned background task
(:meth:`SettlementWriter.run`, started by the composition root) applies every
settlement queued at that moment in **one** transaction — one set-based
conditional ``UPDATE`` for the confirmed outbox rows (``(id, handover) IN …``),
one for their messages, one for the given-back rows. The response never waits
for it: :meth:`SettlementWriter.confirm` only queues.

Contract, per settlement:

* **Conditional on its token, as before**: a row a newer claim holds (a
  retry's) or a worker claimed is left alone — a stale token settles nothing.
* **All or nothing**: a settlement's outbox rows and messages commit in the
  same transaction. If a batch fails, its settlements are applied again one
  by one (each in its own transaction), so one bad item cannot lose the
  others; one that still fails is logged and left to its lease.
* **Never dropped, never an unbounded wait**: when the queue is full, when
  the writer is not open (a process that does not serve callbacks, the
  tests' containers) or once it is closing, the settlement is applied inline,
  in its own transaction.
* **Drained on shutdown**: :meth:`SettlementWriter.aclose` applies whatever
  is still queued (and a batch the cancelled task may not have committed:
  re-applying a settlement changes nothing, every update is conditional).

A settlement lost to a crash (queued, never committed) is already safe —
the same case as a process killed between writing the response and
confirming it (:mod:`kindbot.pipeline.handover.passive`): the claim's lease
(``HANDOVER_LEASE``) runs out and the outbox worker settles it. A caller
that did not get its answer retries within ``RETRY_WINDOW``; a worker whose
process was serving callbacks before the caller's last retry slot
(``OutboxWorker.serving``) records an unconfirmed hand-over of a retrying
caller as delivered, and sends it through the channel's API otherwise. A
confirmation delayed by the queue (milliseconds) never nears the 20 s lease.
A given-back reply lost to a crash waits for its lease, then the worker sends it.

``delivered_at`` is the time the batch was applied (milliseconds after the
response was sent), not the moment of the last byte.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from kindbot.core.events import Handover
from kindbot.core.ports.seams import Clock, Store
from kindbot.core.records.outbox import HandoverClaim

log = logging.getLogger(__name__)

QUEUE_CAPACITY = 4096
"""Settlements waiting for the writer at most; past it they are applied inline."""

MAX_BATCH = 256
"""Settlements in one transaction at most (the ``IN`` list stays a few hundred rows)."""


@dataclass(frozen=True, slots=True)
class Settlement:
    """What became of one hand-over: its response was sent (``confirmed``) or it was not."""

    handover: Handover
    confirmed: bool

    def claims(self) -> tuple[HandoverClaim, ...]:
        """The outbox rows the hand-over's token holds (or held)."""
        return tuple(HandoverClaim(r.outbox_id, self.handover.token) for r in self.handover.replies)


class SettlementWriter:
    """Confirms and gives back hand-overs in batches: one transaction per batch."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        outbox_ready: asyncio.Event,
        *,
        capacity: int = QUEUE_CAPACITY,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._store = store
        self._clock = clock
        self._outbox_ready = outbox_ready
        self._queue: asyncio.Queue[Settlement] = asyncio.Queue(capacity)
        self._max_batch = max_batch
        self._open = False
        self._closing = False
        self._running = False
        self._in_flight: tuple[Settlement, ...] = ()

    def open(self) -> None:
        """Queue settlements from now on; :meth:`run` (an owned task) commits them.

        Until then, and after :meth:`aclose` began, every settlement is applied inline.
        """
        self._open = True

    async def confirm(self, handover: Handover) -> None:
        """The response carrying ``handover`` was sent: its replies are delivered
        (queued; inline when the writer is not open or its queue is full)."""
        await self._submit(Settlement(handover, confirmed=True))

    async def give_back(self, handover: Handover) -> None:
        """The response carrying ``handover`` was not sent: the outbox worker delivers
        its replies now (queued; inline when the writer is not open or its queue is full)."""
        await self._submit(Settlement(handover, confirmed=False))

    async def _submit(self, settlement: Settlement) -> None:
        if not settlement.handover.replies:
            return
        if self._open and not self._closing:
            try:
                self._queue.put_nowait(settlement)
                return
            except asyncio.QueueFull:
                log.warning("settlement queue full (%d): applying inline", self._queue.maxsize)
        await self._commit((settlement,))

    async def run(self) -> None:
        """The owned task: commit every settlement queued at that moment, batch by batch."""
        self._running = True
        try:
            if self._in_flight:  # restarted after a crash: that batch may not have committed
                await self._commit(self._in_flight)
                self._in_flight = ()
            while True:
                batch = self._take([await self._queue.get()])
                self._in_flight = batch
                try:
                    await self._commit(batch)
                    self._in_flight = ()
                finally:
                    for _ in batch:
                        self._queue.task_done()
        finally:
            self._running = False

    async def flush(self) -> None:
        """Return once everything queued so far is committed (applied here, in batches,
        when :meth:`run` is not running)."""
        if self._running:
            await self._queue.join()
            return
        while batch := self._take([]):
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def aclose(self) -> None:
        """Drain on shutdown, after :meth:`run` was cancelled: apply a batch it may not
        have committed and everything still queued; later settlements are applied inline."""
        self._closing = True
        if self._in_flight:
            await self._commit(self._in_flight)
            self._in_flight = ()
        await self.flush()

    def _take(self, batch: list[Settlement]) -> tuple[Settlement, ...]:
        """``batch`` plus what is queued now, up to the batch size."""
        while len(batch) < self._max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return tuple(batch)

    async def _commit(self, batch: Sequence[Settlement]) -> None:
        """Apply ``batch`` in one transaction; if that fails, each settlement on its own."""
        try:
            await self._apply(batch)
            return
        except Exception as error:
            if len(batch) == 1:
                _unsettled(batch[0], error)
                return
            log.warning(
                "a batch of %d settlements failed (%s: %s); applying them one by one",
                len(batch),
                type(error).__name__,
                error,
            )
        for settlement in batch:
            try:
                await self._apply((settlement,))
            except Exception as error:
                _unsettled(settlement, error)

    async def _apply(self, batch: Sequence[Settlement]) -> None:
        confirmed = [c for s in batch if s.confirmed for c in s.claims()]
        given_back = [c for s in batch if not s.confirmed for c in s.claims()]
        now = self._clock.now()
        async with self._store.transaction() as tx:
            if confirmed:
                await tx.outbox.confirm_handovers(confirmed, now)
            if given_back:
                await tx.outbox.give_back_handovers(given_back, now)
        if given_back:
            self._outbox_ready.set()


def _unsettled(settlement: Settlement, error: Exception) -> None:
    """One settlement could not be applied: its lease settles it (see the module doc)."""
    log.error(
        "hand-over of outbox %s not %s; its lease will settle it",
        ", ".join(claim.outbox_id for claim in settlement.claims()),
        "confirmed" if settlement.confirmed else "given back",
        exc_info=error,
    )
