"""The hash chain of the audit log: sealing entries and verifying a chain.

Each entry's hash is SHA-256 over a canonical JSON array of every other field,
including the previous entry's hash, so editing, deleting, inserting or
reordering any entry breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC

from kindbot.core.records.audit import GENESIS_HASH, AuditDraft, AuditEntry, AuditHead

__all__ = ["AuditDraft", "ChainBreak", "entry_hash", "seal", "verify_chain"]


def entry_hash(entry: AuditEntry) -> str:
    """The SHA-256 (hex) that seals ``entry``: every field but ``hash`` itself.

    ``at`` is hashed in UTC, so the hash does not depend on the zone the time
    was written in or read back in.
    """
    fields = [
        entry.tenant_id,
        entry.seq,
        entry.at.astimezone(UTC).isoformat(),
        entry.kind,
        entry.subject,
        entry.rule,
        entry.decision,
        entry.detail,
        entry.prev_hash,
    ]
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def seal(draft: AuditDraft, head: AuditHead) -> AuditEntry:
    """The next entry after ``head`` carrying ``draft``."""
    unsealed = AuditEntry(
        tenant_id=draft.tenant_id,
        seq=head.seq + 1,
        at=draft.at,
        kind=draft.kind,
        subject=draft.subject,
        rule=draft.rule,
        decision=draft.decision,
        detail=draft.detail,
        prev_hash=head.hash,
        hash="",
    )
    return replace(unsealed, hash=entry_hash(unsealed))


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry at which a chain stops verifying, and why."""

    seq: int
    problem: str


def verify_chain(
    entries: Iterable[AuditEntry], *, start: AuditHead | None = None
) -> ChainBreak | None:
    """Check entries in sequence order; None when the chain is intact.

    ``start`` is the verified head before the first entry (genesis when None),
    which lets a caller verify a long chain page by page.
    """
    expected_seq = (start.seq if start else 0) + 1
    prev_hash = start.hash if start else GENESIS_HASH
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainBreak(entry.seq, f"expected entry {expected_seq}, found {entry.seq}")
        if entry.prev_hash != prev_hash:
            return ChainBreak(entry.seq, "does not link to the previous entry's hash")
        if entry_hash(entry) != entry.hash:
            return ChainBreak(entry.seq, "content does not match its hash (edited)")
        prev_hash = entry.hash
        expected_seq += 1
    return None
