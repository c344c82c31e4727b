"""The audit export format round-trips to entries that verify."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from kindbot.core.records.audit import GENESIS_HASH, AuditEntry, AuditHead
from kindbot.guard.audit import AuditDraft, seal, verify_chain
from kindbot.guard.audit_export import entry_from_export, export_line, export_record

T0 = datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)


def chain(details: list[str]) -> list[AuditEntry]:
    head = AuditHead("t1", 0, GENESIS_HASH)
    entries = []
    for i, detail in enumerate(details):
        draft = AuditDraft(
            "t1", T0 + timedelta(seconds=i), "outbound", "s", "guard", "allow", detail
        )
        entry = seal(draft, head)
        entries.append(entry)
        head = AuditHead("t1", entry.seq, entry.hash)
    return entries


def test_export_parses_json_details_and_keeps_other_text() -> None:
    kindbot_detail = json.dumps({"reason_zh": "好", "checks": [["a", "allow"]]}, ensure_ascii=False)
    entries = chain([kindbot_detail, "plain text", '{"a":1}', '"a json string"', "[1, 2]"])
    records = [export_record(e, "shop") for e in entries]
    assert records[0]["detail"] == {"reason_zh": "好", "checks": [["a", "allow"]]}
    assert records[1]["detail"] == "plain text"
    assert records[2]["detail"] == '{"a":1}', "kept as text: re-serialising would change the hash"
    assert records[3]["detail"] == '"a json string"'
    assert records[4]["detail"] == [1, 2]
    assert records[0]["at"] == "2026-11-25T10:00:00.123456+00:00"
    assert set(records[0]) == {
        "tenant",
        "tenant_id",
        "seq",
        "at",
        "kind",
        "subject",
        "rule",
        "decision",
        "detail",
        "prev_hash",
        "hash",
    }


def test_exported_lines_rebuild_a_chain_that_verifies() -> None:
    entries = chain([json.dumps({"n": i}) for i in range(5)] + ["free text"])
    lines = [export_line(e, "shop") for e in entries]
    rebuilt = [entry_from_export(json.loads(line)) for line in lines]
    assert rebuilt == entries
    assert verify_chain(rebuilt) is None

    tampered = json.loads(lines[2])
    tampered["detail"] = {"n": 99}
    broken = verify_chain([*rebuilt[:2], entry_from_export(tampered), *rebuilt[3:]])
    assert broken is not None
    assert broken.seq == 3
