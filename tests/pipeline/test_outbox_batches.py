"""The outbox worker's batch: sent within its claim's lease, and one item's trouble
does not abandon the others (issue 15: duplicates and undelivered replies under load).

The adapter is a recording stand-in for the platform (the one thing not run for
real); the failing record is a real database error (a trigger).
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import text
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container
from kindbot.core.events import (
    DeliveryOutcome,
    DeliveryRequest,
    DeliveryStatus,
    InboundEvent,
    InboundKind,
)
from kindbot.core.records.outbox import OutboxItem, OutboxStatus
from kindbot.pipeline.deliver.outbox import LEASE, OutboxWorker

CHANNEL = "teashop.web"


class Platform:
    """Records every delivery; ``on_send`` runs inside the first one."""

    def __init__(self, kind: str, clock: FakeClock, *, slow_first: bool = False) -> None:
        self.kind = kind
        self.sent: list[str] = []
        self._clock = clock
        self._slow_first = slow_first

    async def deliver(self, request: DeliveryRequest) -> DeliveryOutcome:
        self.sent.append(request.outbox_id)
        if self._slow_first and len(self.sent) == 1:
            self._clock.advance(LEASE)  # this send outlasted the batch's whole lease
        return DeliveryOutcome(DeliveryStatus.DELIVERED)


async def queued_replies(container: Container, clock: FakeClock, count: int) -> list[OutboxItem]:
    """``count`` replies the outbox worker is to deliver now."""
    items = []
    for n in range(count):
        event = InboundEvent(
            channel_public_id=CHANNEL,
            sender=f"visitor-{n}",
            kind=InboundKind.TEXT,
            text="运费怎么算",
            idempotency_key=f"b{n}",
            received_at=clock.now(),
        )
        result = await container.pipeline.feed(event, sync_grace=None)
        async with container.store.transaction(readonly=True) as tx:
            item = await tx.outbox.for_message(result.replies[0].message_id)
        assert item is not None
        items.append(item)
    return items


async def worker(container: Container, clock: FakeClock, platform: Platform) -> OutboxWorker:
    return OutboxWorker(
        store=container.store,
        clock=clock,
        directory=container.directory,
        adapters={platform.kind: platform},
        ready=asyncio.Event(),
    )


async def kind(container: Container) -> str:
    return (await container.directory.by_public_id(CHANNEL)).channel.kind


async def status(container: Container, item: OutboxItem) -> OutboxStatus:
    async with container.store.transaction(readonly=True) as tx:
        found = await tx.outbox.for_message(item.message_id)
    assert found is not None
    return found.status


async def test_a_worker_sends_nothing_of_its_batch_after_the_claim_ran_out(
    container: Container, clock: FakeClock
) -> None:
    """Another worker may have claimed the rest meanwhile: sending them too would
    send them twice."""
    items = await queued_replies(container, clock, 3)
    slow = Platform(await kind(container), clock, slow_first=True)
    other = Platform(slow.kind, clock)

    assert await (await worker(container, clock, slow)).run_once() == 3  # claimed three
    assert len(slow.sent) == 1  # …and sent one: its lease ran out meanwhile
    assert await (await worker(container, clock, other)).run_once() == 2

    assert sorted(slow.sent + other.sent) == sorted(item.id for item in items)  # each once
    assert {await status(container, item) for item in items} == {OutboxStatus.DELIVERED}


async def refuse_delivery(container: Container, outbox_id: str) -> None:
    """Make the database refuse to record one outbox row delivered (a real failure)."""
    if container.store.engine.dialect.name == "sqlite":
        statements = [
            "CREATE TRIGGER refuse BEFORE UPDATE OF status ON outbox"
            f" WHEN OLD.id = '{outbox_id}' AND NEW.status = 'delivered'"
            " BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ]
    else:
        statements = [
            "CREATE FUNCTION refuse() RETURNS trigger AS"
            " $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse BEFORE UPDATE ON outbox FOR EACH ROW"
            f" WHEN (OLD.id = '{outbox_id}' AND NEW.status = 'delivered')"
            " EXECUTE FUNCTION refuse()",
        ]
    async with container.store.engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


async def test_an_outcome_that_cannot_be_recorded_does_not_abandon_the_batch(
    container: Container, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    items = await queued_replies(container, clock, 3)
    stuck = items[1]
    await refuse_delivery(container, stuck.id)
    platform = Platform(await kind(container), clock)

    with caplog.at_level(logging.ERROR, logger="kindbot.pipeline.deliver.outbox"):
        assert await (await worker(container, clock, platform)).run_once() == 3

    assert sorted(platform.sent) == sorted(item.id for item in items)  # none abandoned
    assert [await status(container, item) for item in items] == [
        OutboxStatus.DELIVERED,
        OutboxStatus.SENDING,  # its lease brings it back
        OutboxStatus.DELIVERED,
    ]
    assert stuck.id in caplog.text
