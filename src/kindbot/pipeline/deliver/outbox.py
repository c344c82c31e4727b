"""The outbox worker: delivers pending outbox items through their channel adapters.

It wakes when the pipeline signals new items and otherwise every
``poll_interval`` (for retries that came due and items written by other
processes). Items are claimed with a lease, so several workers never deliver
the same item at once, and an item whose worker died is retried when its
lease runs out. Only items that already passed the guard are ever in the outbox.

A batch is sent one item after another within its claim's lease: an item
whose turn comes after the lease ran out is not sent (another worker may
have claimed it meanwhile; it is claimed again like any expired one). One
item's trouble does not abandon the rest of its batch: a storage error
before sending makes that item a retry, and a failure to record an outcome
is retried while the database is only busy, then logged — the item's lease
brings it back (a reply that was sent but not recorded may then be sent
again: delivery is at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from kindbot.core.errors import NotFoundError, StorageBusyError
from kindbot.core.events import DeliveryOutcome, DeliveryRequest, DeliveryStatus
from kindbot.core.ports.seams import ChannelAdapter, Clock, Store
from kindbot.core.records.outbox import OutboxItem
from kindbot.pipeline.directory import ChannelDirectory
from kindbot.pipeline.handover.passive import HANDOVER_LEASE, RETRY_WINDOW

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
BATCH = 50
SEND_MARGIN = timedelta(seconds=5)
"""An item is sent only while at least this much of its claim's lease is left."""
RECORD_ATTEMPTS = 3
"""Tries at recording one outcome while the database is busy (a pool timeout each)."""
RECORD_BACKOFF_S = 0.2
RETRY_MARGIN = timedelta(seconds=1)
"""A retry slot counts only if it came at least this long after serving began."""


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 2, 4, 8 … seconds, at most five minutes."""
    return timedelta(seconds=min(2**attempts, 300))


class OutboxWorker:
    """Delivers due outbox items; one instance per worker process."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        directory: ChannelDirectory,
        adapters: Mapping[str, ChannelAdapter],
        ready: asyncio.Event,
        poll_interval: float = 1.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._directory = directory
        self._adapters = adapters
        self._ready = ready
        self._poll_interval = poll_interval
        self._serving_since: datetime | None = None

    def serving(self, since: datetime) -> None:
        """This process serves channel callbacks from ``since`` on.

        Then an unconfirmed hand-over whose caller could have retried here —
        its last retry slot (``RETRY_WINDOW`` after the claim) came after
        ``since`` — and did not, got its answer: the worker records it as
        delivered instead of sending it again (:mod:`kindbot.pipeline.handover.passive`).
        Without this (a worker-only process) every expired hand-over is sent.
        """
        self._serving_since = since

    async def run(self) -> None:
        """Deliver forever (until cancelled)."""
        while True:
            delivered = await self.run_once()
            if delivered == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._ready.wait(), self._poll_interval)
                self._ready.clear()

    async def run_once(self) -> int:
        """Claim and attempt one batch of due items; returns how many were attempted."""
        now = self._clock.now()
        lease_until = now + LEASE
        async with self._store.transaction() as tx:
            if self._serving_since is not None:
                # claimed at lease_until - HANDOVER_LEASE; a retry could reach this
                # process when that + RETRY_WINDOW is at least RETRY_MARGIN after since
                leased_from = self._serving_since + RETRY_MARGIN + HANDOVER_LEASE - RETRY_WINDOW
                await tx.outbox.settle_handovers(now, leased_from)
            items = await tx.outbox.claim_due(now, lease_until, BATCH)
        for done, item in enumerate(items):
            if self._clock.now() >= lease_until - SEND_MARGIN:
                log.warning(
                    "outbox claim ran out after %d of %d items; the rest are claimed again",
                    done,
                    len(items),
                )
                break
            outcome = await self._attempt(item)
            await self._record(item, outcome)
        return len(items)

    async def _attempt(self, item: OutboxItem) -> DeliveryOutcome:
        try:
            # Remembered unless the claim read a newer revision of the tenant: a
            # disabled channel or a rotated secret is seen at its next send.
            resolved = await self._directory.for_send(
                item.channel_id, item.tenant_id, item.tenant_revision
            )
            async with self._store.transaction(readonly=True) as tx:
                contact = await tx.contacts.get(item.contact_id)
        except NotFoundError:
            return DeliveryOutcome(DeliveryStatus.FAILED, "channel no longer exists")
        except StorageBusyError as exc:  # nothing was sent: try again later
            return DeliveryOutcome(DeliveryStatus.RETRY, f"storage busy: {exc.message}")
        adapter = self._adapters.get(resolved.channel.kind)
        if adapter is None:
            return DeliveryOutcome(DeliveryStatus.FAILED, f"no adapter for {resolved.channel.kind}")
        if contact is None:
            return DeliveryOutcome(DeliveryStatus.FAILED, "contact no longer exists")
        request = DeliveryRequest(
            outbox_id=item.id,
            tenant_id=item.tenant_id,
            channel_public_id=resolved.channel.public_id,
            channel_config=resolved.config,
            recipient=contact.external_id,
            text=item.text,
            message_id=item.message_id,
            created_at=item.created_at,
        )
        try:
            return await adapter.deliver(request)
        except Exception as exc:  # an adapter bug must not kill the worker
            log.exception("adapter %s raised while delivering %s", adapter.kind, item.id)
            return DeliveryOutcome(DeliveryStatus.RETRY, f"adapter error: {exc!r}")

    async def _record(self, item: OutboxItem, outcome: DeliveryOutcome) -> None:
        """Record ``outcome``; retried while the database is busy, else logged (never
        raised: the batch goes on, and the item's lease brings it back)."""
        for attempt in range(RECORD_ATTEMPTS):
            try:
                await self._record_once(item, outcome)
                return
            except StorageBusyError:
                if attempt + 1 == RECORD_ATTEMPTS:
                    break
                await asyncio.sleep(RECORD_BACKOFF_S * 2**attempt)
            except Exception:
                log.exception("could not record the outcome of outbox item %s", item.id)
                return
        log.warning(
            "could not record the outcome (%s) of outbox item %s: storage busy",
            outcome.status.value,
            item.id,
        )

    async def _record_once(self, item: OutboxItem, outcome: DeliveryOutcome) -> None:
        now = self._clock.now()
        async with self._store.transaction() as tx:
            if outcome.status is DeliveryStatus.DELIVERED:
                await tx.outbox.mark_delivered(item.id, now)
            elif outcome.status is DeliveryStatus.RETRY and item.attempts < MAX_ATTEMPTS:
                await tx.outbox.mark_retry(
                    item.id, outcome.detail, now + retry_delay(item.attempts)
                )
            else:
                await tx.outbox.mark_failed(item.id, outcome.detail)
