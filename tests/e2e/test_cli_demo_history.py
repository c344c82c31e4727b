"""``kindbot demo`` seeds the demo shop's 12 weeks of history once, and ``kindbot metrics``
shows real figures for it (run as a user runs them, in this process; serving is skipped)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.e2e.test_cli_end_to_end import TENANT, query_db, succeeded
from tests.support.cli import kindbot

TABLES = (
    "contacts",
    "conversations",
    "messages",
    "business_events",
    "handoffs",
    "outbox",
    "audit_entries",
    "agents",
)


@pytest.fixture
def no_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """``kindbot demo`` sets everything up and returns instead of serving."""
    monkeypatch.setattr("kindbot.cli.main._serve_demo", lambda host, port: None)


def counts(data_dir: Path) -> dict[str, int]:
    return {t: int(query_db(data_dir, f"SELECT count(*) FROM {t}")[0][0]) for t in TABLES}


def local_today() -> date:
    """Today in the demo shop's time zone (Asia/Shanghai, UTC+8 all year)."""
    return (datetime.now(UTC) + timedelta(hours=8)).date()


def test_the_demo_seeds_twelve_weeks_once_and_metrics_show_them(
    tmp_path: Path, no_serving: None
) -> None:
    data_dir = tmp_path / "kindbot-demo"
    demo = ("demo", "--data-dir", data_dir)

    first = succeeded(kindbot(*demo, data_dir=data_dir))

    assert "demo history" in first.stdout
    assert "contacts" in first.stdout
    assert "orders" in first.stdout
    seeded = counts(data_dir)
    assert seeded["contacts"] >= 250
    assert seeded["business_events"] >= 150
    oldest, newest = (
        datetime.fromisoformat(at).replace(tzinfo=UTC)  # stored as naive UTC
        for at in query_db(
            data_dir,
            "SELECT min(created_at), max(created_at) FROM messages WHERE direction = 'inbound'",
        )[0]
    )
    assert datetime.now(UTC) - timedelta(weeks=12, minutes=5) <= oldest
    assert newest <= datetime.now(UTC)
    assert newest - oldest > timedelta(weeks=11)  # spread over the weeks, each at its own time
    # the only consent is the tea club's, from the visitors' own 「订阅」, and nothing was
    # sent anywhere but the web chat's history
    assert query_db(
        data_dir, "SELECT topic, source, count(*) FROM consents GROUP BY topic, source"
    ) == [("general", "keyword:订阅", 60)]
    assert query_db(data_dir, "SELECT DISTINCT status FROM outbox") == [("delivered",)]
    campaign = json.loads(
        succeeded(kindbot("campaign", "list", "--json", data_dir=data_dir)).stdout
    )
    assert [(c["status"], c["recipients"], c["holdout"]) for c in campaign] == [
        ("finished", 60, 12)
    ]
    report = json.loads(
        succeeded(
            kindbot("campaign", "report", campaign[0]["id"], "--json", data_dir=data_dir)
        ).stdout
    )
    treatment, holdout = report["treatment"], report["holdout"]
    assert (treatment["size"], treatment["sent"], treatment["delivered"]) == (48, 48, 48)
    assert (holdout["size"], holdout["sent"]) == (12, 0)
    assert (treatment["conversions"], holdout["conversions"]) == (14, 1)  # 30 % and 10 %
    assert report["uplift"] == round(14 / 48 - 1 / 12, 4)
    assert report["uplift_ci_low"] < report["uplift"] < report["uplift_ci_high"]
    assert Decimal(report["incremental_revenue_per_recipient"]) > 0
    assert (report["flagged"], report["window_closed"]) == (False, True)

    today = local_today()
    run = kindbot(
        "metrics", "--tenant", TENANT, "--json",
        "--from", str(today - timedelta(weeks=12)), "--to", str(today + timedelta(days=1)),
        data_dir=data_dir,
    )  # fmt: skip
    document = json.loads(succeeded(run).stdout)
    assert document["users"]["active"] >= 250
    assert document["users"]["new"] == document["users"]["active"]
    assert document["orders"] > 50
    assert Decimal(document["revenue"]) > 0
    assert Decimal(document["value_per_user"]) > 0
    assert 0.15 <= document["conversion"]["rate"] <= 0.35
    assert 0.1 <= document["repurchase"]["rate"] <= 0.35
    retention = document["retention"]
    assert len(retention) >= 12
    assert retention[0]["rates"][0] == 1.0
    assert 0 < retention[0]["rates"][1] < 1
    conversations = document["conversations"]
    assert conversations["conversations"] > 0
    assert conversations["csat_ratings"] > 0
    assert 1 <= conversations["csat"] <= 5
    assert conversations["handoff_share"] > 0
    assert conversations["fallback_share"] is not None
    assert conversations["first_response_median_seconds"] is not None
    # a saved segment and a journey, declared at the end of the history
    segments = succeeded(kindbot("segment", "list", "--tenant", TENANT, data_dir=data_dir))
    assert "repeat-buyers" in segments.stdout
    journeys = succeeded(kindbot("journey", "list", "--tenant", TENANT, data_dir=data_dir))
    assert "brewing-tips" in journeys.stdout

    again = succeeded(kindbot(*demo, data_dir=data_dir))

    assert "demo history" not in again.stdout
    assert counts(data_dir) == seeded


def test_seeding_a_shop_with_events_keeps_what_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kindbot.cli.main import _seed_demo_history

    data_dir = tmp_path / "data"
    bundle = Path(__file__).parents[2] / "src" / "kindbot" / "demo" / "bundle.yaml"
    succeeded(kindbot("apply", bundle, data_dir=data_dir))
    events = tmp_path / "one.jsonl"
    events.write_text(
        json.dumps(
            {
                "event_id": "mine",
                "type": "signup",
                "occurred_at": "2026-01-01T00:00:00Z",
                "channel": "hook",
                "external_id": "amy",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    succeeded(kindbot("events", "import", events, "--tenant", TENANT, data_dir=data_dir))
    before = counts(data_dir)
    monkeypatch.setenv("KINDBOT_DATA_DIR", str(data_dir))

    line = _seed_demo_history(TENANT)

    assert line == f"{TENANT}: has business events already; its history is kept as it is"
    assert counts(data_dir) == before
