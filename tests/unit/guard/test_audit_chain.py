"""The audit hash chain detects edits, deletions, insertions and reordering."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from kindbot.core.records.audit import GENESIS_HASH, AuditEntry, AuditHead
from kindbot.guard.audit import AuditDraft, seal, verify_chain

START = datetime(2026, 11, 25, tzinfo=UTC)


def chain(length: int) -> list[AuditEntry]:
    head = AuditHead("t", 0, GENESIS_HASH)
    entries = []
    for i in range(length):
        draft = AuditDraft(
            "t", START + timedelta(seconds=i), "outbound", f"m{i}", "guard", "allow", "{}"
        )
        entry = seal(draft, head)
        entries.append(entry)
        head = AuditHead("t", entry.seq, entry.hash)
    return entries


def test_intact_chain_verifies() -> None:
    assert verify_chain(chain(5)) is None


def test_edit_is_found_at_the_edited_entry() -> None:
    entries = chain(5)
    entries[2] = replace(entries[2], decision="deny")
    broken = verify_chain(entries)
    assert broken is not None
    assert broken.seq == 3
    assert "edited" in broken.problem


def test_deletion_is_found() -> None:
    entries = chain(5)
    del entries[1]
    broken = verify_chain(entries)
    assert broken is not None
    assert broken.seq == 3


def test_reordering_is_found() -> None:
    entries = chain(5)
    entries[1], entries[2] = entries[2], entries[1]
    broken = verify_chain(entries)
    assert broken is not None
    assert broken.seq == 3


def test_insertion_with_recomputed_hash_still_breaks_the_next_link() -> None:
    entries = chain(4)
    forged = seal(
        AuditDraft("t", START, "outbound", "forged", "guard", "allow", "{}"),
        AuditHead("t", entries[1].seq, entries[1].hash),
    )
    tampered = [*entries[:2], forged, *(replace(e, seq=e.seq + 1) for e in entries[2:])]
    broken = verify_chain(tampered)
    assert broken is not None
    assert broken.seq == 4


def test_verification_can_resume_from_a_verified_head() -> None:
    entries = chain(6)
    start = AuditHead("t", entries[2].seq, entries[2].hash)
    assert verify_chain(entries[3:], start=start) is None
