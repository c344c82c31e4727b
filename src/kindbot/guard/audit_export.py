"""The audit log as JSON lines (``kindbot audit export``), and back.

One JSON object per entry::

    {"tenant": "teashop", "tenant_id": "…", "seq": 1, "at": "2026-11-25T10:00:00+00:00",
     "kind": "tenant_status", "subject": "tenant:teashop", "rule": "tenant_status",
     "decision": "approve", "detail": {"reason": "…", "actor": "ops"},
     "prev_hash": "…", "hash": "…"}

``tenant`` is the tenant's slug (``platform`` for the platform chain) and
``tenant_id`` the id the hash covers; ``at`` is UTC. ``detail`` is the parsed
object when the stored detail is a JSON object or array that
``json.dumps(detail, ensure_ascii=False)`` writes back exactly (kindbot's own
entries always are); otherwise it is the stored text. So an export carries
everything needed to verify the chain without the database:
:func:`entry_from_export` rebuilds the entries for
:func:`kindbot.guard.audit.verify_chain`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from kindbot.core.records.audit import AuditEntry


def _detail_value(text: str) -> Any:
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if isinstance(parsed, dict | list) and json.dumps(parsed, ensure_ascii=False) == text:
        return parsed
    return text


def export_record(entry: AuditEntry, tenant: str) -> dict[str, Any]:
    """``entry`` as an export object; ``tenant`` names its chain (slug or ``platform``)."""
    return {
        "tenant": tenant,
        "tenant_id": entry.tenant_id,
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(),
        "kind": entry.kind,
        "subject": entry.subject,
        "rule": entry.rule,
        "decision": entry.decision,
        "detail": _detail_value(entry.detail),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def export_line(entry: AuditEntry, tenant: str) -> str:
    """One line of ``kindbot audit export`` (no trailing newline)."""
    return json.dumps(export_record(entry, tenant), ensure_ascii=False)


def entry_from_export(record: dict[str, Any]) -> AuditEntry:
    """The stored entry an export object describes (raises ``KeyError``/``ValueError``)."""
    detail = record["detail"]
    return AuditEntry(
        tenant_id=str(record["tenant_id"]),
        seq=int(record["seq"]),
        at=datetime.fromisoformat(record["at"]),
        kind=str(record["kind"]),
        subject=str(record["subject"]),
        rule=str(record["rule"]),
        decision=str(record["decision"]),
        detail=detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False),
        prev_hash=str(record["prev_hash"]),
        hash=str(record["hash"]),
    )
