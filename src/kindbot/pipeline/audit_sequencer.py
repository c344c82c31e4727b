"""The audit sequencer: chains pending audit entries in the background.

Writers (the pipeline, the inbox, campaigns) store their audit entries
pending and never touch the chain's head (``AuditRepository.add_pending``).
This owned loop, running in every process that runs background jobs, seals
them every :data:`SEAL_INTERVAL_S`: per tenant with pending entries, one
transaction takes the head lock, chains a bounded batch in insertion order
(``guard/audit_sequencer.seal_pending``), stores it and moves the head. A head
another process is sealing is skipped, not waited for (``SKIP LOCKED``): that
process chains those entries. :meth:`AuditSequencer.drain` seals everything
pending at shutdown; entries a crash leaves pending are sealed at the next
start (or by the first reader: readers seal before they read).
"""

from __future__ import annotations

import asyncio
import logging

from kindbot.core.ports.seams import Store

log = logging.getLogger(__name__)

SEAL_INTERVAL_S = 0.2
"""How often the sequencer looks for pending entries: an entry is chained within
about this long after its transaction commits."""
TENANTS_PER_PASS = 100
"""Most chains one pass seals; the rest wait for the next pass (no pause between)."""


class AuditSequencer:
    """Seals every tenant's pending audit entries: :meth:`run` is the owned loop."""

    def __init__(self, store: Store, *, interval_s: float = SEAL_INTERVAL_S) -> None:
        self._store = store
        self._interval_s = interval_s

    async def run(self) -> None:
        """Seal, then sleep the interval (no sleep while a pass found more than it took)."""
        while True:
            busy = await self.seal_pass(skip_locked=True)
            if not busy:
                await asyncio.sleep(self._interval_s)

    async def seal_pass(self, *, skip_locked: bool) -> bool:
        """One batch for each chain with pending entries; True when one may have more.

        ``skip_locked``: leave a chain whose head another transaction holds.
        """
        async with self._store.transaction(readonly=True) as tx:
            tenants = await tx.audit.pending_tenants(TENANTS_PER_PASS)
        more = len(tenants) == TENANTS_PER_PASS
        for tenant_id in tenants:
            async with self._store.transaction() as tx:
                sealed = await tx.audit.seal_pending(tenant_id, skip_locked=skip_locked)
            more = more or bool(sealed)
        return more

    async def drain(self) -> None:
        """Seal everything pending now, waiting for heads other sealers hold (shutdown)."""
        while await self.seal_pass(skip_locked=False):
            pass
