"""``kindbot moderate`` and ``kindbot moderation``, run as a user runs them (in this process)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import CliRun
from tests.support.cli import kindbot as run_cli

LABELLED = Path(__file__).parents[1] / "data" / "moderation" / "labelled.tsv"
DEMO_BUNDLE = Path(__file__).parents[2] / "src" / "kindbot" / "demo" / "bundle.yaml"


def kindbot(*args: str | Path, data_dir: Path, stdin: bytes = b"") -> CliRun:
    return run_cli(*args, data_dir=data_dir, input=stdin)


def ok(result: CliRun) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def refused(result: CliRun) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("error:"), result.stderr
    return result.stderr


def test_moderate_reads_stdin_lines_even_with_bad_bytes(tmp_path: Path) -> None:
    stdin = "加我微信abc8888\n好的，谢谢\n".encode() + b"\xff\xfe\x00bad\n\n"
    stdout = ok(kindbot("moderate", "--json", data_dir=tmp_path / "data", stdin=stdin))
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert [r["verdict"] for r in rows] == ["block", "ok", "ok", "ok"]
    assert rows[0]["categories"] == ["diversion"]
    match = rows[0]["matches"][0]
    assert set(match) >= {"term", "category", "rule", "start", "end"}
    assert rows[0]["text"][match["start"] : match["end"]] == match["excerpt"]
    assert not (tmp_path / "data").exists(), "screening alone needs no database"


def test_moderate_weighs_direction(tmp_path: Path) -> None:
    text = "我的手机号是13812345678"
    inbound = ok(kindbot("moderate", "--direction", "inbound", text, data_dir=tmp_path / "d"))
    proactive = ok(kindbot("moderate", "--proactive", text, data_dir=tmp_path / "d"))
    assert inbound.startswith("ok")
    assert proactive.startswith("block")
    usage = kindbot("moderate", "--direction", "sideways", text, data_dir=tmp_path / "d")
    assert usage.returncode == 2
    assert "sideways" in usage.stderr


def test_terms_edits_apply_and_tenants_cannot_allow_protected_terms(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ok(kindbot("apply", DEMO_BUNDLE, data_dir=data))
    ok(kindbot("moderation", "terms", "add", "养老补贴", "--action", "deny",
               "--category", "fraud", data_dir=data))  # fmt: skip
    listed = ok(kindbot("moderation", "terms", "list", data_dir=data))
    assert "养老补贴" in listed
    assert "deny" in listed
    verdict = ok(kindbot("moderate", "--json", "领取养老补贴", data_dir=data))
    assert json.loads(verdict)["verdict"] == "block"

    stderr = refused(kindbot("moderation", "terms", "add", "赌场", "--action", "allow",
                             "--tenant", "teashop", data_dir=data))  # fmt: skip
    assert "赌场" in stderr
    refused(kindbot("moderation", "terms", "add", "快三", "--action", "deny", data_dir=data))

    ok(kindbot("moderation", "terms", "remove", "养老补贴", data_dir=data))
    verdict = ok(kindbot("moderate", "--json", "领取养老补贴", data_dir=data))
    assert json.loads(verdict)["verdict"] == "ok"
    refused(kindbot("moderation", "terms", "remove", "养老补贴", data_dir=data))


def test_eval_and_train(tmp_path: Path) -> None:
    data = tmp_path / "data"
    report = ok(kindbot("moderation", "eval", LABELLED, data_dir=data))
    assert "precision" in report
    assert "misses" in report
    assert "false positives" in report
    model = tmp_path / "model.pkl"
    ok(kindbot("moderation", "train", LABELLED, "--out", model, data_dir=data))
    assert "recall" in ok(kindbot("moderation", "eval", LABELLED, "--model", model, data_dir=data))
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\texpected\n赌场\tcasino\n", encoding="utf-8")
    assert "casino" in refused(kindbot("moderation", "eval", bad, data_dir=data))
    refused(kindbot("moderation", "eval", "--model", bad, LABELLED, data_dir=data))
