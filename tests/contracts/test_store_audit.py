"""The storage contract, part 3b: the audit chain — pending entries, sealing, reading.

Writers add entries pending (no head, no lock); sealing chains a tenant's
pending entries in insertion order under its head's lock; every reader
(``entries``) seals first. Two stores on one database stand for two processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import asdict

import pytest
from sqlalchemy import insert, select

from kindbot.core.ports.seams import Store, Transaction
from kindbot.core.records.audit import (
    GENESIS_HASH,
    AuditDraft,
    AuditFacets,
    AuditFilter,
    AuditHead,
)
from kindbot.guard.audit import seal, verify_chain
from kindbot.storage.schema import audit_entries, audit_pending
from kindbot.storage.sql_store import SqlStore
from tests.contracts.builders import at, make_tenant, raises_in_transaction

TENANT = "acme-id"


def draft(tenant_id: str, n: int) -> AuditDraft:
    return AuditDraft(
        tenant_id=tenant_id,
        at=at(n, seconds=0.001 * n),
        kind="outbound",
        subject=f"message-{n}",
        rule="R1",
        decision="allow",
        detail=f"第 {n} 筆 ✓",
    )


async def add(store: Store, tenant_id: str, *numbers: int) -> None:
    async with store.transaction() as tx:
        await tx.audit.add_pending([draft(tenant_id, n) for n in numbers])


async def pending_count(store: SqlStore) -> int:
    async with store.engine.connect() as conn:
        return len((await conn.execute(select(audit_pending.c.id))).all())


async def sealed_rows(store: SqlStore) -> int:
    async with store.engine.connect() as conn:
        return len((await conn.execute(select(audit_entries.c.seq))).all())


@pytest.fixture
async def second_store(store: SqlStore) -> AsyncIterator[SqlStore]:
    """Another store on the same database: another process's view of it."""
    other = SqlStore.for_url(store.engine.url.render_as_string(hide_password=False))
    yield other
    await other.close()


async def test_an_empty_chain_reads_as_genesis(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.audit.head(TENANT) == AuditHead(TENANT, 0, GENESIS_HASH)
        assert await tx.audit.entries(TENANT, 0, 10) == []
        assert await tx.audit.seal_pending(TENANT) == []


async def test_pending_entries_are_not_chained_until_sealed(store: SqlStore) -> None:
    await add(store, TENANT, 1, 2)

    assert await pending_count(store) == 2
    assert await sealed_rows(store) == 0, "a writer touches neither the chain nor its head"
    async with store.transaction(readonly=True) as tx:
        assert await tx.audit.pending_tenants(10) == [TENANT]
        assert await tx.audit.head(TENANT) == AuditHead(TENANT, 0, GENESIS_HASH)


async def test_sealing_chains_pending_entries_in_insertion_order(store: SqlStore) -> None:
    await add(store, TENANT, 3, 1)
    await add(store, TENANT, 2)

    async with store.transaction() as tx:
        sealed = await tx.audit.seal_pending(TENANT)
    assert sealed is not None
    entries = [s.entry for s in sealed]
    assert [e.subject for e in entries] == ["message-3", "message-1", "message-2"]
    assert [e.seq for e in entries] == [1, 2, 3]
    assert [s.pending_id for s in sealed] == sorted(s.pending_id for s in sealed)
    assert entries[0] == seal(draft(TENANT, 3), AuditHead(TENANT, 0, GENESIS_HASH))
    assert verify_chain(entries) is None
    assert await pending_count(store) == 0
    async with store.transaction(readonly=True) as tx:
        assert await tx.audit.head(TENANT) == AuditHead(TENANT, 3, entries[-1].hash)
        assert await tx.audit.entries(TENANT, 0, 10) == entries, "entries round-trip unchanged"
        assert await tx.audit.pending_tenants(10) == []


async def test_a_sealing_batch_is_bounded_and_the_next_one_continues_the_chain(
    store: SqlStore,
) -> None:
    await add(store, TENANT, 1, 2, 3, 4, 5)

    async with store.transaction() as tx:
        first = await tx.audit.seal_pending(TENANT, limit=2)
    assert first is not None
    assert [s.entry.seq for s in first] == [1, 2]
    assert await pending_count(store) == 3
    async with store.transaction() as tx:
        rest = await tx.audit.seal_pending(TENANT, limit=10)
    assert rest is not None
    assert [s.entry.seq for s in rest] == [3, 4, 5]
    assert rest[0].entry.prev_hash == first[-1].entry.hash
    assert verify_chain([s.entry for s in first + rest]) is None


async def test_audit_entries_page_in_order(store: Store) -> None:
    await add(store, TENANT, 1, 2, 3, 4, 5)

    async with store.transaction() as tx:
        pages = [
            await tx.audit.entries(TENANT, 0, 2),
            await tx.audit.entries(TENANT, 2, 2),
            await tx.audit.entries(TENANT, 4, 2),
            await tx.audit.entries(TENANT, 5, 2),
        ]
    assert [[e.seq for e in page] for page in pages] == [[1, 2], [3, 4], [5], []]
    assert verify_chain([e for page in pages for e in page]) is None
    assert verify_chain(pages[1], start=AuditHead(TENANT, 2, pages[0][-1].hash)) is None


async def test_audit_chains_are_per_tenant(store: Store) -> None:
    await add(store, TENANT, 1)
    await add(store, "platform", 1)
    await add(store, TENANT, 2)

    async with store.transaction() as tx:
        acme = await tx.audit.entries(TENANT, 0, 10)
        platform = await tx.audit.entries("platform", 0, 10)
        assert await tx.audit.entries("nobody", 0, 10) == []
    assert [(e.seq, e.subject) for e in acme] == [(1, "message-1"), (2, "message-2")]
    assert [(e.seq, e.prev_hash) for e in platform] == [(1, GENESIS_HASH)]


@pytest.mark.parametrize("readonly", [False, True], ids=["writing", "read-only"])
async def test_reading_the_chain_seals_what_is_pending_first(
    store: SqlStore, readonly: bool
) -> None:
    await add(store, TENANT, 1)
    async with store.transaction(readonly=True) as tx:
        assert len(await tx.audit.entries(TENANT, 0, 10)) == 1
    await add(store, TENANT, 2, 3)

    async with store.transaction(readonly=readonly) as tx:
        await tx.tenants.list()  # a read before: SQLite's snapshot is already taken
        entries = await tx.audit.entries(TENANT, 0, 10)
        head = await tx.audit.head(TENANT)
    assert [e.subject for e in entries] == ["message-1", "message-2", "message-3"]
    assert verify_chain(entries) is None
    assert (head.seq, head.hash) == (3, entries[-1].hash)
    assert await pending_count(store) == 0


async def test_a_rolled_back_writer_leaves_nothing_pending(store: SqlStore) -> None:
    async def write_then_fail(tx: Transaction) -> None:
        await make_tenant(tx, "written-before-the-failure")
        await tx.audit.add_pending([draft(TENANT, 1)])
        raise RuntimeError("the writer's transaction fails")

    await raises_in_transaction(store, write_then_fail)

    assert await pending_count(store) == 0
    async with store.transaction() as tx:
        assert await tx.audit.entries(TENANT, 0, 10) == []


async def test_a_seal_that_fails_changes_nothing(store: SqlStore) -> None:
    await add(store, TENANT, 1, 2)
    forged = seal(draft(TENANT, 99), AuditHead(TENANT, 0, GENESIS_HASH))
    async with store.engine.begin() as conn:  # a row at seq 1 the head does not know of
        await conn.execute(insert(audit_entries).values(**asdict(forged)))

    async def seal_it(tx: Transaction) -> None:
        await tx.audit.seal_pending(TENANT)

    await raises_in_transaction(store, seal_it)  # the unique (tenant, seq) refuses entry 1

    assert await pending_count(store) == 2, "both entries are still pending"
    assert await sealed_rows(store) == 1
    async with store.transaction(readonly=True) as tx:
        assert await tx.audit.head(TENANT) == AuditHead(TENANT, 0, GENESIS_HASH)


async def test_two_sealers_in_two_processes_build_one_chain_with_every_entry_once(
    store: SqlStore, second_store: SqlStore
) -> None:
    writers, per_writer = 6, 5

    async def write(writer: int) -> None:
        for n in range(per_writer):
            await add(store if writer % 2 else second_store, TENANT, writer * 100 + n)

    async def sealer(on: SqlStore, skip_locked: bool, stop: asyncio.Event) -> int:
        sealed = 0
        while True:
            finished = stop.is_set()
            async with on.transaction() as tx:
                batch = await tx.audit.seal_pending(TENANT, limit=3, skip_locked=skip_locked)
            sealed += len(batch or [])
            if finished and batch == []:
                return sealed
            await asyncio.sleep(0)

    stop = asyncio.Event()
    sealers = [
        asyncio.create_task(sealer(store, False, stop)),
        asyncio.create_task(sealer(second_store, True, stop)),
        asyncio.create_task(sealer(second_store, False, stop)),
    ]
    await asyncio.gather(*(write(w) for w in range(writers)))
    stop.set()
    counts = await asyncio.gather(*sealers)

    total = writers * per_writer
    assert sum(counts) == total, "no entry sealed twice"
    async with store.transaction(readonly=True) as tx:
        chain = await tx.audit.entries(TENANT, 0, 1000)
        head = await tx.audit.head(TENANT)
    assert [e.seq for e in chain] == list(range(1, total + 1))
    expected = {f"message-{w * 100 + n}" for w in range(writers) for n in range(per_writer)}
    assert sorted(e.subject for e in chain) == sorted(expected), "every entry exactly once"
    assert verify_chain(chain) is None
    assert (head.seq, head.hash) == (total, chain[-1].hash)
    assert await pending_count(store) == 0


async def test_skip_locked_leaves_a_head_another_sealer_holds(
    store: SqlStore, second_store: SqlStore, backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite has one writer at a time: a second sealer cannot start to skip")
    await add(store, TENANT, 1)
    async with store.transaction() as tx:
        await tx.audit.seal_pending(TENANT)
    async with store.transaction() as holding:
        assert await holding.audit.seal_pending(TENANT) == []  # holds the head, seals nothing
        await add(second_store, TENANT, 2)
        async with second_store.transaction() as tx:
            assert await tx.audit.seal_pending(TENANT, skip_locked=True) is None
    async with second_store.transaction() as tx:
        sealed = await tx.audit.seal_pending(TENANT, skip_locked=True)
    assert sealed is not None
    assert [s.entry.seq for s in sealed] == [2]


async def test_newest_entries_filter_and_page_backwards(store: Store) -> None:
    kinds = ["outbound", "consent", "outbound", "tenant_status", "outbound"]
    decisions = ["allow", "allow", "deny", "allow", "deny"]
    subjects = ["message-Alpha", "contact:1", "message-beta_%", "teashop", "message-ALPHA-2"]
    async with store.transaction() as tx:
        await tx.audit.add_pending(
            [
                AuditDraft(TENANT, at(n), kinds[n], subjects[n], "R1", decisions[n], "{}")
                for n in range(5)
            ]
        )
    async with store.transaction(readonly=True) as tx:  # reading seals the pending ones
        newest = await tx.audit.newest(TENANT, AuditFilter(), before_seq=None, limit=2)
        older = await tx.audit.newest(TENANT, AuditFilter(), before_seq=newest[-1].seq, limit=10)
        denied = await tx.audit.newest(
            TENANT, AuditFilter(kind="outbound", decision="deny"), before_seq=None, limit=10
        )
        alpha = await tx.audit.newest(TENANT, AuditFilter(text="alpha"), before_seq=None, limit=9)
        literal = await tx.audit.newest(TENANT, AuditFilter(text="_%"), before_seq=None, limit=9)
        facets = await tx.audit.facets(TENANT)
        assert await tx.audit.newest("other", AuditFilter(), before_seq=None, limit=9) == []
    assert [e.seq for e in newest] == [5, 4]
    assert [e.seq for e in older] == [3, 2, 1]
    assert [e.seq for e in denied] == [5, 3]
    assert [e.seq for e in alpha] == [5, 1], "the text is found in the subject, any case"
    assert [e.seq for e in literal] == [3], "% and _ are matched literally"
    assert facets == AuditFacets(
        kinds=("consent", "outbound", "tenant_status"), decisions=("allow", "deny")
    )
