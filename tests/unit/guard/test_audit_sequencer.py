"""Sealing pending entries: insertion order, the same hashes as sealing one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kindbot.core.records.audit import GENESIS_HASH, AuditDraft, AuditHead, PendingAuditEntry
from kindbot.guard.audit import seal, verify_chain
from kindbot.guard.audit_sequencer import seal_pending

START = datetime(2026, 11, 25, tzinfo=UTC)
GENESIS = AuditHead("t", 0, GENESIS_HASH)


def pending(pending_id: int, tenant_id: str = "t") -> PendingAuditEntry:
    draft = AuditDraft(
        tenant_id,
        START + timedelta(seconds=pending_id),
        "outbound",
        f"message:{pending_id}",
        "guard",
        "allow",
        '{"reason_zh": "好"}',
    )
    return PendingAuditEntry(pending_id, draft)


@pytest.mark.parametrize(
    ("ids", "chained"),
    [
        ([], []),
        ([7], [7]),
        ([1, 2, 3], [1, 2, 3]),
        ([3, 1, 2], [1, 2, 3]),
        ([10, 4, 900, 5], [4, 5, 10, 900]),
    ],
)
def test_pending_entries_are_chained_in_insertion_order(ids: list[int], chained: list[int]) -> None:
    batch = seal_pending(GENESIS, [pending(i) for i in ids])

    assert [s.pending_id for s in batch.sealed] == chained
    assert [s.entry.subject for s in batch.sealed] == [f"message:{i}" for i in chained]
    assert [s.entry.seq for s in batch.sealed] == list(range(1, len(ids) + 1))


def test_sealing_a_batch_gives_the_hashes_of_sealing_one_at_a_time() -> None:
    head = AuditHead("t", 41, "a" * 64)
    batch = seal_pending(head, [pending(2), pending(1)])

    first = seal(pending(1).draft, head)
    second = seal(pending(2).draft, AuditHead("t", first.seq, first.hash))
    assert [s.entry for s in batch.sealed] == [first, second]
    assert batch.head == AuditHead("t", 43, second.hash)


def test_consecutive_batches_make_one_chain_that_verifies() -> None:
    first = seal_pending(GENESIS, [pending(i) for i in (1, 2, 3)])
    second = seal_pending(first.head, [pending(i) for i in (5, 4)])

    entries = [s.entry for s in first.sealed + second.sealed]
    assert verify_chain(entries) is None
    assert second.head == AuditHead("t", 5, entries[-1].hash)


def test_an_empty_batch_leaves_the_head() -> None:
    head = AuditHead("t", 9, "b" * 64)
    assert seal_pending(head, []).head == head


def test_another_tenants_entry_is_refused() -> None:
    with pytest.raises(ValueError, match="belongs to 'other'"):
        seal_pending(GENESIS, [pending(1), pending(2, tenant_id="other")])
