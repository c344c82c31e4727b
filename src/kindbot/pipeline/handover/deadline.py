"""Answering within a platform's deadline: a race with a fallback, not a polling loop.

WeChat waits 5 s for a passive reply. :func:`feed_before_deadline` runs the
pipeline as an owned job and waits at most ``budget`` seconds for it. In time:
the caller gets the result and answers passively. Too late: the caller gets
``None`` (and answers ``success``), while the job goes on; when it finishes,
its replies are released to the outbox and delivered through the platform's
API. Nothing is computed twice and nothing is dropped.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from kindbot.core.events import CallbackNonce, FeedResult, InboundEvent
from kindbot.pipeline.directory import ResolvedChannel
from kindbot.pipeline.receive.feed import Pipeline
from kindbot.pipeline.supervisor import TaskSupervisor

HOLD = timedelta(seconds=60)
"""How long replies wait for a passive hand-over before the worker may send them."""


async def feed_before_deadline(
    pipeline: Pipeline,
    supervisor: TaskSupervisor,
    event: InboundEvent,
    budget: float,
    resolved: ResolvedChannel | None = None,
    nonce: CallbackNonce | None = None,
    take: int = 0,
) -> FeedResult | None:
    """The pipeline's result if it is ready within ``budget`` seconds, else None.

    ``take``: replies the caller will hand over itself (``Pipeline.feed``);
    when the budget runs out they are given back to the outbox worker too.
    """
    gave_up = asyncio.Event()
    feeding = pipeline.feed(
        event,
        sync_grace=HOLD,
        resolved=resolved,
        nonce=nonce,
        take=take,
        waiting=lambda: not gave_up.is_set(),  # no hand-over after ``success`` was answered
    )
    job = supervisor.spawn(f"feed:{event.idempotency_key}", feeding)
    try:
        return await asyncio.wait_for(asyncio.shield(job), timeout=budget)
    except TimeoutError:
        gave_up.set()
        supervisor.spawn(f"release:{event.idempotency_key}", _release_when_done(pipeline, job))
        return None


async def _release_when_done(pipeline: Pipeline, job: asyncio.Task[FeedResult]) -> None:
    await pipeline.release(await job)
