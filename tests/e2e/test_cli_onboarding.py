"""Onboarding from the command line, as an operator runs it: prohibited industries
are refused at ``kindbot apply``, new tenants are pending, ``kindbot tenant``
approves, suspends and reinstates (audited), ``kindbot audit export`` writes
the chains as JSON lines that verify on their own."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.e2e.test_cli_end_to_end import (
    DEMO_SOURCE,
    TENANT,
    bot_messages,
    failed_cleanly,
    query_db,
    row_counts,
    succeeded,
)
from tests.support.cli import kindbot

from kindbot.guard.audit import verify_chain
from kindbot.guard.audit_export import entry_from_export


def shop_bundle(tmp_path: Path, industry: str, *, extra: str = "") -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(
        "tenant:\n"
        "  slug: acme\n"
        "  name: Acme\n"
        f"  industry: {industry}\n"
        "channels:\n"
        "  - {id: web, type: webchat}\n" + extra,
        encoding="utf-8",
    )
    return path


def tenant_entries(data_dir: Path, slug: str) -> list[tuple[str, str, str, str]]:
    return query_db(
        data_dir,
        "SELECT kind, rule, decision, detail FROM audit_entries WHERE tenant_id = "
        "(SELECT id FROM tenants WHERE slug = ?) AND kind = 'tenant_status' ORDER BY seq",
        [slug],
    )


def test_prohibited_industry_is_refused_at_apply(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    bundle = shop_bundle(tmp_path, "线上赌场")
    stderr = failed_cleanly(kindbot("apply", bundle, data_dir=data_dir))

    assert "nothing was applied" in stderr
    assert "shop.yaml, line 4, tenant.industry" in stderr, stderr
    assert "线上赌场" in stderr
    assert "prohibited" in stderr
    assert "gambling" in stderr
    assert "赌博" in stderr
    assert row_counts(data_dir) == {"tenants": 0, "channels": 0, "knowledge_entries": 0}
    [(tenant_id, kind, rule, decision, detail)] = query_db(
        data_dir, "SELECT tenant_id, kind, rule, decision, detail FROM audit_entries"
    )
    assert (tenant_id, kind, rule, decision) == ("platform", "onboarding", "tenant_status", "deny")
    assert json.loads(detail)["industry"] == "线上赌场"

    verified = succeeded(kindbot("audit", "verify", data_dir=data_dir))
    assert "platform: ok, 1 entries verified" in verified.stdout


def test_the_operator_list_replaces_the_default(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    prohibited = tmp_path / "prohibited.yaml"
    prohibited.write_text(
        "- {id: tobacco, label_zh: 烟草, label_en: tobacco, aliases: [卷烟, vape]}\n",
        encoding="utf-8",
    )
    env = {"KINDBOT_PROHIBITED_INDUSTRIES": str(prohibited)}
    stderr = failed_cleanly(
        kindbot("apply", shop_bundle(tmp_path, "vape shop"), data_dir=data_dir, env=env)
    )
    assert "tobacco" in stderr
    result = succeeded(
        kindbot("apply", shop_bundle(tmp_path, "lottery"), data_dir=data_dir, env=env)
    )
    assert "tenant acme: created" in result.stdout

    prohibited.write_text("- {id: Bad}\n", encoding="utf-8")
    stderr = failed_cleanly(
        kindbot("apply", shop_bundle(tmp_path, "tea"), data_dir=data_dir, env=env)
    )
    assert "prohibited.yaml, line 1, [0].id" in stderr


def test_new_tenant_is_pending_until_approved(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    bundle = shop_bundle(
        tmp_path,
        "茶叶零售",
        extra="test_contacts:\n  - {channel: console, external_id: tester}\n",
    )
    applied = succeeded(kindbot("apply", bundle, data_dir=data_dir))
    assert "tenant acme: created" in applied.stdout
    assert "pending" in applied.stdout
    assert "kindbot tenant approve acme" in applied.stdout
    assert "test contacts: 1 marked, 0 unmarked" in applied.stdout

    listed = succeeded(kindbot("tenant", "list", data_dir=data_dir))
    assert re.search(r"acme\s.*Acme\s.*茶叶零售\s.*pending", listed.stdout), listed.stdout

    stranger = succeeded(kindbot("chat", "--user", "someone", data_dir=data_dir, input="你好\n"))
    assert bot_messages(stranger.stdout) == []
    assert "pending" in stranger.stdout
    tester = succeeded(kindbot("chat", "--user", "tester", data_dir=data_dir, input="你好\n"))
    assert len(bot_messages(tester.stdout)) == 1

    approved = succeeded(
        kindbot("tenant", "approve", "acme", "--reason", "licence checked", data_dir=data_dir)
    )
    assert "tenant acme: pending → active" in approved.stdout
    after = succeeded(kindbot("chat", "--user", "someone", data_dir=data_dir, input="你好\n"))
    assert len(bot_messages(after.stdout)) == 1


def test_approve_suspend_reinstate_are_audited(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir))
    for action, reason in [
        ("approve", "documents checked"),
        ("suspend", "spam complaints"),
        ("reinstate", "appeal upheld"),
    ]:
        succeeded(kindbot("tenant", action, TENANT, "--reason", reason, data_dir=data_dir))
    listed = succeeded(kindbot("tenant", "list", data_dir=data_dir))
    assert re.search(rf"{TENANT}\s.*active", listed.stdout), listed.stdout

    entries = tenant_entries(data_dir, TENANT)
    assert [(k, r, d) for k, r, d, _ in entries] == [
        ("tenant_status", "tenant_status", "approve"),
        ("tenant_status", "tenant_status", "suspend"),
        ("tenant_status", "tenant_status", "reinstate"),
    ]
    details = [json.loads(detail) for *_, detail in entries]
    assert [d["reason"] for d in details] == [
        "documents checked",
        "spam complaints",
        "appeal upheld",
    ]
    assert all(d["actor"] for d in details)
    assert [(d["from"], d["to"]) for d in details] == [
        ("pending", "active"),
        ("active", "suspended"),
        ("suspended", "active"),
    ]
    verified = succeeded(kindbot("audit", "verify", data_dir=data_dir))
    assert f"{TENANT}: ok, 3 entries verified" in verified.stdout


def test_invalid_transitions_and_missing_reasons_fail_clearly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir))

    stderr = failed_cleanly(kindbot("tenant", "approve", TENANT, data_dir=data_dir))
    assert "a reason is required" in stderr
    stderr = failed_cleanly(
        kindbot("tenant", "suspend", TENANT, "--reason", "   ", data_dir=data_dir)
    )
    assert "a reason is required" in stderr
    stderr = failed_cleanly(kindbot("tenant", "reinstate", TENANT, "-r", "x", data_dir=data_dir))
    assert "pending, not suspended" in stderr
    stderr = failed_cleanly(
        kindbot("tenant", "approve", "nosuchshop", "-r", "x", data_dir=data_dir)
    )
    assert "no tenant 'nosuchshop'" in stderr

    succeeded(kindbot("tenant", "approve", TENANT, "-r", "ok", data_dir=data_dir))
    stderr = failed_cleanly(kindbot("tenant", "approve", TENANT, "-r", "again", data_dir=data_dir))
    assert "already active" in stderr
    stderr = failed_cleanly(kindbot("tenant", "reinstate", TENANT, "-r", "x", data_dir=data_dir))
    assert "not suspended" in stderr
    assert [d for _, _, d, _ in tenant_entries(data_dir, TENANT)] == ["approve"]


def test_audit_export_round_trip(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir))
    succeeded(kindbot("tenant", "approve", TENANT, "-r", "ok", data_dir=data_dir))
    succeeded(kindbot("chat", data_dir=data_dir, input="运费多少钱\n退订\n"))
    failed_cleanly(kindbot("apply", shop_bundle(tmp_path, "刷单"), data_dir=data_dir))

    exported = tmp_path / "audit.jsonl"
    result = succeeded(kindbot("audit", "export", "--output", exported, data_dir=data_dir))
    total = query_db(data_dir, "SELECT count(*) FROM audit_entries")[0][0]
    assert f"{total} entries from 2 chains" in result.stdout
    lines = exported.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == total
    assert {r["tenant"] for r in records} == {TENANT, "platform"}
    for record in records:
        assert set(record) >= {
            "tenant",
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
    approve = next(r for r in records if r["decision"] == "approve")
    assert approve["detail"]["reason"] == "ok", "detail is parsed JSON"
    assert approve["at"].endswith("+00:00")
    for tenant in (TENANT, "platform"):
        chain = [entry_from_export(r) for r in records if r["tenant"] == tenant]
        assert chain
        assert verify_chain(chain) is None

    only = succeeded(kindbot("audit", "export", "--tenant", TENANT, data_dir=data_dir))
    assert [json.loads(line) for line in only.stdout.splitlines()] == [
        r for r in records if r["tenant"] == TENANT
    ]
    platform = succeeded(kindbot("audit", "export", "--tenant", "platform", data_dir=data_dir))
    assert len(platform.stdout.splitlines()) == 1
