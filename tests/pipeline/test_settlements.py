"""Group commit of hand-over settlements (issue 15): many confirmations, one transaction.

Run on both backends (``container_backend``). Statements are counted at the
driver (:mod:`tests.support.statements`); the failing item is a real database
error (a trigger that refuses to update one outbox row), not a mock.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from tests.support.clock import FakeClock
from tests.support.statements import traced

from kindbot.bootstrap import Container
from kindbot.core.events import Handover, InboundEvent, InboundKind
from kindbot.core.records.outbox import OutboxStatus
from kindbot.pipeline.handover.settlements import SettlementWriter
from kindbot.pipeline.supervisor import TaskSupervisor
from kindbot.storage.schema import messages

N = 12


async def handover(container: Container, clock: FakeClock, key: str) -> Handover:
    """A message on the demo's web chat whose reply is claimed for the caller."""
    event = InboundEvent(
        channel_public_id="teashop.web",
        sender=f"visitor-{key}",
        kind=InboundKind.TEXT,
        text="运费怎么算",
        idempotency_key=key,
        received_at=clock.now(),
    )
    result = await container.pipeline.feed(event, sync_grace=timedelta(seconds=60), take=1)
    assert result.handover is not None
    assert result.handover.replies
    return result.handover


async def handovers(container: Container, clock: FakeClock, count: int) -> list[Handover]:
    return [await handover(container, clock, f"k{n}") for n in range(count)]


async def status(container: Container, held: Handover) -> OutboxStatus:
    async with container.store.transaction(readonly=True) as tx:
        item = await tx.outbox.for_message(held.replies[0].message_id)
    assert item is not None
    return item.status


async def statuses(container: Container, held: list[Handover]) -> list[OutboxStatus]:
    return [await status(container, h) for h in held]


async def message_status(container: Container, held: Handover) -> str:
    query = select(messages.c.status).where(messages.c.id == held.replies[0].message_id)
    async with container.store.engine.connect() as conn:
        return str((await conn.execute(query)).scalar_one())


async def test_confirmations_queued_together_commit_in_one_transaction(
    container: Container, clock: FakeClock
) -> None:
    held = await handovers(container, clock, N)
    container.start_settlements()
    await asyncio.sleep(0)  # the writer waits for its queue
    async with traced(container.store) as log:
        log.active = True
        for one in held:  # N responses sent at about the same time
            await container.settlements.confirm(one)
        await container.settlements.flush()
        log.active = False

    assert len(log.write_transactions()) == 1, log.render()
    [batch] = log.write_transactions()
    assert [s.verb for s in batch] == ["BEGIN", "UPDATE", "UPDATE", "COMMIT"], log.render()
    assert await statuses(container, held) == [OutboxStatus.DELIVERED] * N
    assert {await message_status(container, h) for h in held} == {"delivered"}


async def test_a_batch_confirms_and_gives_back_and_wakes_the_outbox_worker(
    container: Container, clock: FakeClock
) -> None:
    sent, gone = await handovers(container, clock, 2)
    ready = asyncio.Event()
    writer = SettlementWriter(container.store, clock, ready)
    writer.open()
    await writer.confirm(sent)
    await writer.give_back(gone)
    assert await statuses(container, [sent, gone]) == [OutboxStatus.HANDED_OVER] * 2  # queued
    assert not ready.is_set()

    await writer.flush()

    assert await statuses(container, [sent, gone]) == [
        OutboxStatus.DELIVERED,
        OutboxStatus.PENDING,
    ]
    assert ready.is_set()
    assert await container.outbox_worker.run_once() == 1  # the given-back reply, due at once


async def test_a_stale_token_in_a_batch_confirms_nothing(
    container: Container, clock: FakeClock
) -> None:
    fresh, superseded = await handovers(container, clock, 2)
    # A retry of the second request claimed its reply again: the first claim is stale.
    retry = await container.pipeline.outcome_by_key("teashop.web", "k1")
    assert retry is not None
    again = await container.pipeline.claim_for_passive(retry)
    assert again.replies
    assert again.token != superseded.token
    writer = SettlementWriter(container.store, clock, asyncio.Event())
    writer.open()
    await writer.confirm(fresh)
    await writer.confirm(superseded)
    await writer.give_back(superseded)
    await writer.flush()

    assert await statuses(container, [fresh, superseded]) == [
        OutboxStatus.DELIVERED,
        OutboxStatus.HANDED_OVER,  # still the retry's
    ]
    await writer.confirm(again)
    await writer.flush()
    assert await status(container, again) is OutboxStatus.DELIVERED


async def poison(container: Container, outbox_id: str) -> None:
    """Make the database refuse every update of one outbox row (a real failure)."""
    if container.store.engine.dialect.name == "sqlite":
        statements = [
            "CREATE TRIGGER poison BEFORE UPDATE ON outbox"
            f" WHEN OLD.id = '{outbox_id}' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
        ]
    else:
        statements = [
            "CREATE FUNCTION poison() RETURNS trigger AS"
            " $$ BEGIN RAISE EXCEPTION 'poisoned row'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER poison BEFORE UPDATE ON outbox FOR EACH ROW"
            f" WHEN (OLD.id = '{outbox_id}') EXECUTE FUNCTION poison()",
        ]
    async with container.store.engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


async def test_a_failing_item_does_not_lose_the_others(
    container: Container, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    held = await handovers(container, clock, 5)
    bad = held[2]
    await poison(container, bad.replies[0].outbox_id)
    writer = SettlementWriter(container.store, clock, asyncio.Event())
    writer.open()
    for one in held:
        await writer.confirm(one)

    with caplog.at_level(logging.WARNING, logger="kindbot.pipeline.handover.settlements"):
        await writer.flush()

    assert await statuses(container, held) == [
        OutboxStatus.DELIVERED,
        OutboxStatus.DELIVERED,
        OutboxStatus.HANDED_OVER,  # left to its lease: the outbox worker settles it
        OutboxStatus.DELIVERED,
        OutboxStatus.DELIVERED,
    ]
    assert await message_status(container, bad) == "pending"  # nothing half-applied
    levels = [r.levelname for r in caplog.records]
    assert levels == ["WARNING", "ERROR"], caplog.text  # the batch, then the one item
    assert bad.replies[0].outbox_id in caplog.records[1].getMessage()


@pytest.mark.parametrize("steps", [0, 1, 3])
async def test_shutdown_drains_everything_queued(
    container: Container, clock: FakeClock, steps: int
) -> None:
    """Whether the writer had not started, was waiting or was mid-batch when cancelled."""
    held = await handovers(container, clock, N)
    supervisor = TaskSupervisor()
    writer = SettlementWriter(container.store, clock, asyncio.Event(), max_batch=4)
    writer.open()
    supervisor.start("settlements", writer.run)
    for one in held:
        await writer.confirm(one)
    for _ in range(steps):
        await asyncio.sleep(0)

    await supervisor.aclose()  # the loop is cancelled at once, as on shutdown
    await writer.aclose()  # and drained

    assert await statuses(container, held) == [OutboxStatus.DELIVERED] * N
    late = await handover(container, clock, "late")
    await writer.confirm(late)  # after shutdown: applied inline, never dropped
    assert await status(container, late) is OutboxStatus.DELIVERED


async def test_a_full_queue_applies_inline(container: Container, clock: FakeClock) -> None:
    first, second = await handovers(container, clock, 2)
    writer = SettlementWriter(container.store, clock, asyncio.Event(), capacity=1)
    writer.open()
    await writer.confirm(first)  # queued
    await writer.confirm(second)  # the queue is full: applied now
    assert await statuses(container, [first, second]) == [
        OutboxStatus.HANDED_OVER,
        OutboxStatus.DELIVERED,
    ]
    await writer.flush()
    assert await status(container, first) is OutboxStatus.DELIVERED


async def test_a_writer_that_is_not_open_settles_inline(
    container: Container, clock: FakeClock
) -> None:
    [held] = await handovers(container, clock, 1)
    await container.settlements.confirm(held)  # the tests' container serves no callbacks
    assert await status(container, held) is OutboxStatus.DELIVERED
