"""The storage contract, part 4: concurrent transactions.

Each task below runs in its own transaction and they all run at once through
``asyncio.gather``; nothing sleeps. The backend must serialise them correctly
(and without "database is locked" errors on SQLite).
"""

from __future__ import annotations

import asyncio
from collections import Counter

from kindbot.core.ports.seams import Store
from kindbot.core.records.conversations import MessageRecord
from kindbot.core.records.outbox import OutboxItem, OutboxStatus
from kindbot.guard.audit import AuditDraft, verify_chain
from tests.contracts.builders import Party, at, enqueue_reply, make_party, store_inbound

WORKERS = 3
ITEMS = 30


async def test_concurrent_inbound_with_the_same_key_stores_one_row(store: Store) -> None:
    party = await make_party(store)

    async def deliver(attempt: int) -> tuple[MessageRecord, bool]:
        async with store.transaction() as tx:
            return await store_inbound(tx, party, "webhook-retry", f"attempt {attempt}")

    results = await asyncio.gather(*(deliver(n) for n in range(20)))

    assert [created for _, created in results].count(True) == 1
    assert len({message.id for message, _ in results}) == 1
    async with store.transaction() as tx:
        stored = await tx.messages.history(party.conversation.id, 100)
    assert [m.id for m in stored] == [results[0][0].id]


async def test_concurrent_audit_writers_and_sealers_build_one_chain(store: Store) -> None:
    tenant_id = "acme-id"

    async def write(writer: int) -> None:
        async with store.transaction() as tx:
            await tx.audit.add_pending(
                [
                    AuditDraft(
                        tenant_id=tenant_id,
                        at=at(0, seconds=writer),
                        kind="outbound",
                        subject=f"writer-{writer}",
                        rule="R1",
                        decision="allow",
                        detail="concurrent",
                    )
                ]
            )

    async def seal_some() -> None:
        async with store.transaction() as tx:
            await tx.audit.seal_pending(tenant_id, limit=2)

    await asyncio.gather(*(write(n) for n in range(10)), *(seal_some() for _ in range(6)))

    async with store.transaction() as tx:
        chain = await tx.audit.entries(tenant_id, 0, 100)
        head = await tx.audit.head(tenant_id)
    assert [e.seq for e in chain] == list(range(1, 11))
    assert sorted(e.subject for e in chain) == sorted(f"writer-{n}" for n in range(10))
    assert verify_chain(chain) is None
    assert (head.seq, head.hash) == (10, chain[-1].hash)


async def test_concurrent_workers_claim_every_item_exactly_once(store: Store) -> None:
    party: Party = await make_party(store)
    async with store.transaction() as tx:
        queued = {(await enqueue_reply(tx, party, f"m{i}")).id for i in range(ITEMS)}
    now = at(1)

    async def worker() -> list[OutboxItem]:
        mine: list[OutboxItem] = []
        while True:
            async with store.transaction() as tx:
                batch = await tx.outbox.claim_due(now, at(10), 4)
            if not batch:
                return mine
            mine.extend(batch)

    claims = await asyncio.gather(*(worker() for _ in range(WORKERS)))

    counts = Counter(item.id for batch in claims for item in batch)
    assert set(counts) == queued
    assert set(counts.values()) == {1}, "no item may be claimed twice"
    async with store.transaction() as tx:
        assert await tx.outbox.claim_due(now, at(10), 100) == []


async def test_a_concurrent_failure_never_overrides_a_delivery(store: Store) -> None:
    party = await make_party(store)
    async with store.transaction() as tx:
        items = [await enqueue_reply(tx, party, f"m{i}") for i in range(ITEMS)]
        await tx.outbox.claim_due(at(0), at(1), ITEMS)

    async def deliver(item: OutboxItem) -> None:
        async with store.transaction() as tx:
            await tx.outbox.mark_delivered(item.id, at(0, seconds=5))

    async def fail(item: OutboxItem) -> None:
        async with store.transaction() as tx:
            await tx.outbox.mark_failed(item.id, "the other worker gave up")

    await asyncio.gather(*(step(item) for item in items for step in (fail, deliver)))

    async with store.transaction() as tx:
        final = [await tx.outbox.for_message(item.message_id) for item in items]
        messages = await tx.messages.history(party.conversation.id, 100)
    assert {f.status if f else None for f in final} == {OutboxStatus.DELIVERED}
    assert {m.status for m in messages} == {"delivered"}
