"""``kindbot campaign``: create, approve, list, show, cancel and report, run as a user runs
them (in this process); the worker's pass runs in between, as ``kindbot worker`` would.

The demo shop with ``human_confirm_over: 2``, four console contacts tagged
``vip`` who opted in to ``news``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
from tests.e2e.test_cli_end_to_end import TENANT, copy_demo, failed_cleanly, query_db, succeeded
from tests.support.cli import kindbot

from kindbot.bootstrap import open_container
from kindbot.settings import Settings

USERS = ("ann", "bob", "cat", "dan")


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    bundle = copy_demo(tmp_path / "bundle")
    text = bundle.read_text(encoding="utf-8")
    bundle.write_text(text + "\nguard:\n  human_confirm_over: 2\n", encoding="utf-8")
    data_dir = tmp_path / "data"
    succeeded(kindbot("apply", bundle, data_dir=data_dir))
    succeeded(kindbot("tenant", "approve", TENANT, "--reason", "e2e", data_dir=data_dir))
    for user in USERS:
        succeeded(kindbot("chat", "--user", user, data_dir=data_dir, input="你好\n"))
        who = ("--channel", "console", "--user", user)
        succeeded(kindbot("tag", "add", "vip", *who, data_dir=data_dir))
        succeeded(
            kindbot(
                "consent", "grant", "--channel", "console", "--user", user, "--topic", "news",
                "--wording", "上新时通知我", data_dir=data_dir,
            )
        )  # fmt: skip
    return data_dir


def worker_pass(data_dir: Path) -> int:
    """One pass of the campaign worker (what ``kindbot worker`` runs in a loop)."""

    async def go() -> int:
        settings = Settings(data_dir=data_dir, database_url=None, redis_url=None, secret_key=None)
        async with open_container(settings, auto_migrate=True) as c:
            return (await c.campaign_delivery.run_once()).decided

    return asyncio.run(go())


def test_a_campaign_from_the_command_line(shop: Path) -> None:
    created = succeeded(
        kindbot(
            "campaign", "create", "--name", "新品", "--topic", "news", "--tag", "vip",
            "--text", "新茶上市", "--text", "新茶到店", "--holdout", "0.25", "--as", "alice",
            data_dir=shop,
        )
    )  # fmt: skip
    assert "variant A:" in created.stdout
    assert "variant B:" in created.stdout
    assert "awaits a second person" in created.stdout  # 3 treatment > 2
    (campaign_id,) = [row[0] for row in query_db(shop, "SELECT id FROM campaigns")]
    arms = query_db(shop, "SELECT arm, count(*) FROM campaign_recipients GROUP BY arm ORDER BY arm")
    assert arms == [("holdout", 1), ("treatment", 3)]

    same = failed_cleanly(
        kindbot("campaign", "approve", campaign_id, "--as", "alice", data_dir=shop)
    )
    assert "someone other than its creator" in same
    assert worker_pass(shop) == 0
    succeeded(kindbot("campaign", "approve", campaign_id, "--as", "bob", data_dir=shop))
    assert worker_pass(shop) == 3

    listed = json.loads(succeeded(kindbot("campaign", "list", "--json", data_dir=shop)).stdout)
    assert [(c["id"], c["status"], c["holdout"]) for c in listed] == [(campaign_id, "finished", 1)]
    shown = json.loads(
        succeeded(kindbot("campaign", "show", campaign_id, "--json", data_dir=shop)).stdout
    )
    assert shown["approved_by"] == "bob"
    assert sorted((c["arm"], c["status"], c["count"]) for c in shown["counts"]) == [
        ("holdout", "holdout", 1),
        ("treatment", "sent", 3),
    ]

    document = json.loads(
        succeeded(kindbot("campaign", "report", campaign_id, "--json", data_dir=shop)).stdout
    )
    assert (document["treatment"]["size"], document["treatment"]["sent"]) == (3, 3)
    assert (document["holdout"]["size"], document["holdout"]["sent"]) == (1, 0)
    assert (document["uplift"], document["flagged"]) == (0.0, False)
    rows = list(
        csv.DictReader(
            io.StringIO(
                succeeded(kindbot("campaign", "report", campaign_id, "--csv", data_dir=shop)).stdout
            )
        )
    )
    assert [(r["arm"], r["size"], r["sent"]) for r in rows] == [
        ("treatment", "3", "3"),
        ("holdout", "1", "0"),
    ]
    table = succeeded(kindbot("campaign", "report", campaign_id, data_dir=shop)).stdout
    assert "uplift: 0.0 (95 % Wald CI" in table
    done = failed_cleanly(kindbot("campaign", "cancel", campaign_id, data_dir=shop))
    assert "cannot be cancelled" in done


def test_bad_campaign_commands_fail_cleanly(shop: Path) -> None:
    base = ("campaign", "create", "--name", "x", "--topic", "news", "--text", "hi")
    both = failed_cleanly(kindbot(*base, "--tag", "vip", "--segment", "s", data_dir=shop))
    assert "exactly one of" in both
    nobody = failed_cleanly(kindbot(*base, "--tag", "nobody", data_dir=shop))
    assert "no contacts" in nobody
    weights = kindbot(*base, "--tag", "vip", "--weights", "1,2", data_dir=shop)
    assert weights.returncode == 2
    assert "--weights" in weights.stderr
    contact = kindbot(*base, "--contact", "console", data_dir=shop)
    assert contact.returncode == 2
    assert "CHANNEL:EXTERNAL_ID" in contact.stderr
    unknown = failed_cleanly(kindbot("campaign", "report", "nope", data_dir=shop))
    assert "no campaign 'nope'" in unknown
    assert query_db(shop, "SELECT count(*) FROM campaigns") == [(0,)]

    draft = succeeded(
        kindbot(
            *base, "--contact", "console:ann", "--contact", "console:bob", "--draft", data_dir=shop
        )
    )
    assert ": draft;" in draft.stdout
    (campaign_id,) = [row[0] for row in query_db(shop, "SELECT id FROM campaigns")]
    submitted = succeeded(kindbot("campaign", "submit", campaign_id, data_dir=shop))
    assert ": scheduled;" in submitted.stdout
    cancelled = succeeded(kindbot("campaign", "cancel", campaign_id, data_dir=shop))
    assert ": cancelled;" in cancelled.stdout
