"""The audit chain: every decision, hash-linked per tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

GENESIS_HASH = "0" * 64


"""The ``prev_hash`` of the first entry of every audit chain."""


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The end of a tenant's audit chain: the last sequence number and hash."""

    tenant_id: str
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One sealed, append-only audit entry.

    ``hash`` covers every other field including ``prev_hash``; see
    :func:`kindbot.guard.audit.seal`.
    """

    tenant_id: str
    seq: int
    at: datetime
    kind: str
    subject: str
    rule: str
    decision: str
    detail: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditDraft:
    """An audit entry before it is placed in the chain: its content, fixed when written."""

    tenant_id: str
    at: datetime
    kind: str
    subject: str
    rule: str
    decision: str
    detail: str


@dataclass(frozen=True, slots=True)
class PendingAuditEntry:
    """A committed entry waiting for the sequencer: ``id`` orders a tenant's pending entries."""

    id: int
    draft: AuditDraft


@dataclass(frozen=True, slots=True)
class SealedPending:
    """A pending entry as the sequencer placed it in the chain."""

    pending_id: int
    entry: AuditEntry


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries of a chain to list: ``kind`` and ``decision`` exactly, ``text``
    contained in the subject (case-insensitive); None or empty: any."""

    kind: str | None = None
    decision: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class AuditFacets:
    """The kinds and decisions a tenant's chain holds, sorted (for filter choices)."""

    kinds: tuple[str, ...]
    decisions: tuple[str, ...]
