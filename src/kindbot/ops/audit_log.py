"""Reading a tenant's audit chain: verify it page by page, export it as JSON lines.

Shared by ``kindbot audit …`` and ``/api/v1/tenants/{slug}/audit/…``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from kindbot.core.ports.seams import Store
from kindbot.core.records.audit import GENESIS_HASH, AuditHead
from kindbot.guard.audit import ChainBreak, verify_chain
from kindbot.guard.audit_export import export_line

PAGE = 5000


@dataclass(frozen=True, slots=True)
class ChainReport:
    """How far a chain verified and where it broke, if it did."""

    tenant_slug: str
    entries: int
    broken: ChainBreak | None


async def verify_tenant_chain(store: Store, tenant_id: str, slug: str) -> ChainReport:
    """Verify a tenant's whole chain page by page, then check the head points at its end.

    Reading seals what is pending first (``AuditRepository.entries``). Entries
    sealed while this runs move the head on: the pages after the last verified
    entry are then read too, so only a head pointing past the stored entries
    (a truncated log) or before them is reported.
    """
    verified = AuditHead(tenant_id, 0, GENESIS_HASH)
    count = 0
    while True:
        async with store.transaction(readonly=True) as tx:
            page = await tx.audit.entries(tenant_id, verified.seq, PAGE)
        if page:
            broken = verify_chain(page, start=verified)
            if broken is not None:
                return ChainReport(slug, count, broken)
            count += len(page)
            verified = AuditHead(tenant_id, page[-1].seq, page[-1].hash)
            continue
        async with store.transaction(readonly=True) as tx:
            head = await tx.audit.head(tenant_id)
            sealed_since = head.seq > verified.seq and bool(
                await tx.audit.entries(tenant_id, verified.seq, 1)
            )
        if not sealed_since:
            break
    if (head.seq, head.hash) != (verified.seq, verified.hash):
        problem = f"the log ends at entry {verified.seq} but its head says {head.seq} (truncated)"
        return ChainReport(slug, count, ChainBreak(verified.seq + 1, problem))
    return ChainReport(slug, count, None)


async def export_lines(store: Store, tenant_id: str, label: str) -> AsyncIterator[str]:
    """Every entry of the chain as one JSON line (with a trailing newline), a page at a time.

    Each page is read in its own short read-only transaction, so a long export
    never holds the database.
    """
    after = 0
    while True:
        async with store.transaction(readonly=True) as tx:
            page = await tx.audit.entries(tenant_id, after, PAGE)
        for entry in page:
            yield export_line(entry, label) + "\n"
        if len(page) < PAGE:
            return
        after = page[-1].seq
