"""Resumes inbound messages whose processing was interrupted (a crash, a kill).

A message still ``received`` after ``stale`` (``STALE`` unless the settings say
otherwise) was stored but never got its outcome committed; processing it again
is safe because processing is idempotent, and its replies go out through the
outbox (the original caller is gone — e.g. WeChat already got ``success``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from kindbot.core.ports.seams import Clock, Store
from kindbot.pipeline.receive.feed import Pipeline

log = logging.getLogger(__name__)

STALE = timedelta(seconds=60)
INTERVAL_S = 30.0


async def resume_stale(
    store: Store, clock: Clock, pipeline: Pipeline, *, limit: int = 100, after: timedelta = STALE
) -> int:
    """Process every ``received`` message older than ``after`` once; returns how many."""
    async with store.transaction() as tx:
        stale = await tx.messages.unprocessed_inbound(clock.now() - after, limit)
    for message in stale:
        await pipeline.process(message.id, sync_grace=None)
    if stale:
        log.warning("resumed %d interrupted inbound message(s)", len(stale))
    return len(stale)


async def recovery_loop(
    store: Store, clock: Clock, pipeline: Pipeline, *, after: timedelta = STALE
) -> None:
    """Run :func:`resume_stale` every ``INTERVAL_S`` seconds (at most half of
    ``after``) until cancelled."""
    interval = min(INTERVAL_S, after.total_seconds() / 2)
    while True:
        await resume_stale(store, clock, pipeline, after=after)
        await asyncio.sleep(interval)
