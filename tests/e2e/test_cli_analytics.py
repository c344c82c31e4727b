"""``kindbot events import`` and ``kindbot metrics``, run as a user runs them (in this process).

The demo shop (``teashop``, Asia/Shanghai) imports a CSV and a JSON Lines file;
a file with one bad row is refused naming the file, the row and the field, and
nothing of it is applied.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.e2e.test_cli_end_to_end import DEMO_SOURCE, TENANT, failed_cleanly, query_db, succeeded
from tests.support.cli import kindbot

CSV = """event_id,type,occurred_at,channel,external_id,amount,currency,order_id,properties
o1,order,2027-01-04T10:00:00+08:00,hook,amy,128.00,CNY,1001,"{""sku"": ""longjing""}"
o2,order,2027-01-10T23:30:00+08:00,hook,bob,20,,1002,
r1,refund,2027-01-05T09:00:00+08:00,hook,amy,28.00,CNY,1001,
s1,signup,2027-01-11T07:30:00+08:00,hook,cat,,,,
"""
"""o2 is at 23:30 on the period's last local day (15:30 UTC); s1 is on 01-11 local
(23:30 UTC on 01-10), outside the period [01-04, 01-11)."""

JSONL = "\n".join(
    json.dumps(event)
    for event in [
        {
            "event_id": "o3",
            "type": "order",
            "occurred_at": "2027-01-06T12:00:00Z",
            "channel": "hook",
            "external_id": "amy",
            "amount": 50.5,
        },
        {"event_id": "v1", "type": "visit", "occurred_at": "2027-01-07T08:00:00+08:00",
         "channel": "hook", "external_id": "dan", "properties": {"page": "/tea"}},
    ]
) + "\n"  # fmt: skip


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir))
    return data_dir


def events_in(data_dir: Path) -> int:
    return int(query_db(data_dir, "SELECT count(*) FROM business_events")[0][0])


def metrics(data_dir: Path, *extra: str) -> dict[str, object]:
    run = kindbot(
        "metrics", "--tenant", TENANT, "--from", "2027-01-04", "--to", "2027-01-11", "--json",
        *extra, data_dir=data_dir,
    )  # fmt: skip
    document: dict[str, object] = json.loads(succeeded(run).stdout)
    return document


def test_csv_and_json_lines_import_once_and_feed_the_metrics(shop: Path, tmp_path: Path) -> None:
    csv_file, jsonl_file = tmp_path / "orders.csv", tmp_path / "more.jsonl"
    csv_file.write_text(CSV, encoding="utf-8")
    jsonl_file.write_text(JSONL, encoding="utf-8")

    first = succeeded(kindbot("events", "import", csv_file, "--tenant", TENANT, data_dir=shop))
    second = succeeded(kindbot("events", "import", jsonl_file, "--tenant", TENANT, data_dir=shop))
    again = succeeded(kindbot("events", "import", csv_file, "--tenant", TENANT, data_dir=shop))

    assert "4 events imported, 0 already known" in first.stdout
    assert "2 events imported, 0 already known" in second.stdout
    assert "0 events imported, 4 already known" in again.stdout
    assert events_in(shop) == 6
    sources = query_db(shop, "SELECT source, count(*) FROM contacts GROUP BY source")
    assert sources == [("event", 4)]  # amy, bob, cat, dan; no consent for any of them
    assert query_db(shop, "SELECT count(*) FROM consents") == [(0,)]
    amounts = query_db(shop, "SELECT amount_minor FROM business_events WHERE event_id = 'o3'")
    assert amounts == [(5050,)]

    document = metrics(shop)
    assert document["orders"] == 3
    assert document["revenue"] == "170.50"  # 128 + 20 + 50.50 - 28
    assert document["users"] == {"active": 3, "new": 3}  # amy, bob, dan (cat is on 01-11)
    assert document["value_per_user"] == "56.83"
    assert list(document) == [
        "period", "users", "orders", "revenue", "value_per_user", "conversion", "repurchase",
        "previous", "value_decomposition", "retention", "conversations",
    ]  # fmt: skip


def test_one_bad_row_names_file_row_and_field_and_nothing_is_applied(
    shop: Path, tmp_path: Path
) -> None:
    bad = CSV.replace("bob,20,", "bob,20.001,")
    csv_file = tmp_path / "orders.csv"
    csv_file.write_text(bad, encoding="utf-8")
    jsonl_file = tmp_path / "more.jsonl"
    jsonl_file.write_text(JSONL.replace('"type": "visit"', '"type": "Visit"'), encoding="utf-8")

    from_csv = failed_cleanly(
        kindbot("events", "import", csv_file, "--tenant", TENANT, data_dir=shop)
    )
    from_jsonl = failed_cleanly(
        kindbot("events", "import", jsonl_file, "--tenant", TENANT, data_dir=shop)
    )

    assert "nothing was applied" in from_csv
    assert f"{csv_file}, row 3, amount: more than 2 decimal places for CNY" in from_csv
    assert f"{jsonl_file}, line 2, type:" in from_jsonl
    assert events_in(shop) == 0
    assert query_db(shop, "SELECT count(*) FROM contacts WHERE source = 'event'") == [(0,)]


def test_a_row_naming_an_unknown_channel_applies_nothing(shop: Path, tmp_path: Path) -> None:
    rows = CSV.splitlines()
    rows.append("x9,order,2027-01-06T10:00:00+08:00,nowhere,eve,1.00,CNY,9,")
    csv_file = tmp_path / "orders.csv"
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")

    stderr = failed_cleanly(
        kindbot("events", "import", csv_file, "--tenant", TENANT, data_dir=shop)
    )

    assert f"{csv_file}, row 6, channel:" in stderr
    assert events_in(shop) == 0
    assert query_db(shop, "SELECT count(*) FROM contacts WHERE source = 'event'") == [(0,)]


def test_unknown_formats_and_missing_files_are_clear_errors(shop: Path, tmp_path: Path) -> None:
    text = tmp_path / "orders.txt"
    text.write_text(CSV, encoding="utf-8")

    wrong = failed_cleanly(kindbot("events", "import", text, "--tenant", TENANT, data_dir=shop))
    missing = failed_cleanly(
        kindbot("events", "import", tmp_path / "none.csv", "--tenant", TENANT, data_dir=shop)
    )

    assert "use .csv or .jsonl" in wrong
    assert "none.csv" in missing


def test_metrics_without_json_print_tables_and_bad_periods_are_refused(shop: Path) -> None:
    table = succeeded(
        kindbot(
            "metrics", "--tenant", TENANT, "--from", "2027-01-04", "--to", "2027-01-11",
            data_dir=shop,
        )
    )  # fmt: skip
    backwards = kindbot(
        "metrics", "--tenant", TENANT, "--from", "2027-01-11", "--to", "2027-01-04", data_dir=shop
    )

    assert "active users" in table.stdout
    assert "2027-W01" in table.stdout
    assert "to: must be after from" in failed_cleanly(backwards)
