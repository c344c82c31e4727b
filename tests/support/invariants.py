"""Invariants every test that runs the real composition root must leave intact.

Checked after each such test (see the ``container`` fixture), so every flow the
suite exercises — web chat, webhook, console, WeChat passive and async replies,
welcomes, 微信客服, onboarding — proves the guard's promise:

* no outbox row (nothing that can reach a channel) exists without an ``allow``
  verdict of the guard naming its message, written in the same transaction;
* every tenant's audit chain verifies.

Both read the chains as a reader does: pending entries are sealed first.
"""

from __future__ import annotations

from sqlalchemy import select

from kindbot.core.records.audit import GENESIS_HASH, AuditHead
from kindbot.guard.audit import verify_chain
from kindbot.storage.schema import audit_entries, outbox
from kindbot.storage.sql_store import SqlStore


async def seal_every_chain(store: SqlStore) -> None:
    """Seal every pending audit entry (the sequencer's path), as a reader does first."""
    async with store.transaction(readonly=True) as tx:
        chains = await tx.audit.pending_tenants(1_000_000)
    for tenant_id in chains:
        await store.seal_audit(tenant_id)


async def assert_every_send_passed_the_guard(store: SqlStore) -> None:
    """Fail if an outbox row lacks the allow verdict for its message."""
    await seal_every_chain(store)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.tenant_id, outbox.c.message_id))).all()
        allowed = {
            (r.tenant_id, r.subject)
            for r in await conn.execute(
                select(audit_entries.c.tenant_id, audit_entries.c.subject).where(
                    audit_entries.c.kind == "outbound", audit_entries.c.decision == "allow"
                )
            )
        }
    skipped = [r for r in rows if (r.tenant_id, f"message:{r.message_id}") not in allowed]
    assert not skipped, f"outbox rows without a guard verdict: {skipped}"


async def assert_audit_chains_verify(store: SqlStore) -> None:
    """Fail if any tenant's audit chain (or the platform's) is broken."""
    async with store.transaction(readonly=True) as tx:
        chains = [t.id for t in await tx.tenants.list()] + ["platform"]
        for tenant_id in chains:
            entries = await tx.audit.entries(tenant_id, 0, 1_000_000)
            broken = verify_chain(entries, start=AuditHead(tenant_id, 0, GENESIS_HASH))
            assert broken is None, f"audit chain of {tenant_id} broken: {broken}"
            end = (entries[-1].seq, entries[-1].hash) if entries else (0, GENESIS_HASH)
            head = await tx.audit.head(tenant_id)
            assert (head.seq, head.hash) == end, f"audit head of {tenant_id} is not its end"
