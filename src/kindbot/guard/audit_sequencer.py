"""Sealing pending audit entries into their chain (pure; the sequencer's decision).

Writers store audit entries *pending*: content only, no place in the chain,
no head read and no lock (``AuditRepository.add_pending``). The sequencer
(``pipeline/audit_sequencer.py``, and every reader before it reads) takes a
tenant's head, hands it and a batch of that tenant's pending entries to
:func:`seal_pending`, and stores what comes back in one transaction. The hash
is :func:`kindbot.guard.audit.seal`'s, so verifying and exporting a chain do
not know whether an entry was ever pending.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kindbot.core.records.audit import AuditHead, PendingAuditEntry, SealedPending
from kindbot.guard.audit import seal


@dataclass(frozen=True, slots=True)
class SealedBatch:
    """Pending entries chained after a head, and the head after them."""

    sealed: tuple[SealedPending, ...]
    head: AuditHead


def seal_pending(head: AuditHead, pending: Iterable[PendingAuditEntry]) -> SealedBatch:
    """Chain ``pending`` after ``head`` in insertion order (ascending ``id``).

    Every entry must belong to the head's tenant (a ValueError otherwise: a
    tenant's entry in another's chain would be a silent, permanent mistake).
    An empty batch leaves the head where it was.
    """
    sealed: list[SealedPending] = []
    for item in sorted(pending, key=lambda p: p.id):
        if item.draft.tenant_id != head.tenant_id:
            raise ValueError(
                f"pending entry {item.id} belongs to {item.draft.tenant_id!r}, "
                f"not to the chain of {head.tenant_id!r}"
            )
        entry = seal(item.draft, head)
        sealed.append(SealedPending(item.id, entry))
        head = AuditHead(head.tenant_id, entry.seq, entry.hash)
    return SealedBatch(tuple(sealed), head)
