"""``kindbot segment``, run as a user runs it (in this process), on the demo shop.

amy has two orders and bob one (imported as events, so both are contacts
created by events); the segments are saved from ``--json`` and ``--file``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.e2e.test_cli_end_to_end import DEMO_SOURCE, TENANT, failed_cleanly, query_db, succeeded
from tests.support.cli import kindbot

EVENTS = "\n".join(
    json.dumps(
        {"event_id": f"o{n}", "type": "order", "occurred_at": "2026-11-20T10:00:00+08:00",
         "channel": "hook", "external_id": user, "amount": amount}
    )
    for n, (user, amount) in enumerate([("amy", "10.00"), ("amy", "20.00"), ("bob", "5.00")])
) + "\n"  # fmt: skip


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir))
    events = tmp_path / "orders.jsonl"
    events.write_text(EVENTS, encoding="utf-8")
    succeeded(kindbot("events", "import", events, "--tenant", TENANT, data_dir=data_dir))
    return data_dir


def segment(data_dir: Path, *args: object) -> str:
    return succeeded(kindbot("segment", *args, "--tenant", TENANT, data_dir=data_dir)).stdout


def test_segments_are_created_previewed_listed_updated_and_deleted(
    shop: Path, tmp_path: Path
) -> None:
    repeat = '{"all_of": [{"orders": {"min": 2}}]}'
    assert "saved" in segment(shop, "create", "repeat", "--json", repeat)
    definition = tmp_path / "buyers.json"
    definition.write_text('{"all_of": [{"revenue": {"min": "5.00"}}]}', encoding="utf-8")
    segment(shop, "create", "buyers", "--file", definition)

    preview = json.loads(segment(shop, "preview", "repeat", "--as-json"))
    amy = query_db(shop, "SELECT id FROM contacts WHERE external_id = 'amy'")[0][0]
    assert preview == {
        "count": 1,
        "sample": [{"contact_id": amy, "display_name": None, "channel": "hook"}],
    }
    assert json.loads(segment(shop, "preview", "buyers", "--as-json"))["count"] == 2
    adhoc = segment(shop, "preview", "--json", '{"all_of": [{"orders": {"max": 1}}]}')
    assert adhoc.startswith("1 members")  # bob
    listed = json.loads(segment(shop, "list", "--json"))
    assert [s["name"] for s in listed] == ["buyers", "repeat"]
    assert listed[0]["definition"] == {"all_of": [{"revenue": {"min": "5.00"}}]}
    assert listed[0]["created_by"].startswith("cli:")

    segment(shop, "update", "repeat", "--json", '{"all_of": [{"orders": {"min": 3}}]}')
    shown = json.loads(segment(shop, "show", "repeat"))
    assert shown["definition"] == {"all_of": [{"orders": {"min": 3}}]}
    assert json.loads(segment(shop, "preview", "repeat", "--as-json"))["count"] == 0

    assert "deleted" in segment(shop, "delete", "repeat")
    message = failed_cleanly(
        kindbot("segment", "show", "repeat", "--tenant", TENANT, data_dir=shop)
    )
    assert "no segment 'repeat'" in message


def test_bad_definitions_name_the_file_and_path_and_save_nothing(
    shop: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"all_of": [{"orders": {"min": -1}}, {"rfm": {"r": [5, 4]}}]}', "utf-8")

    message = failed_cleanly(
        kindbot("segment", "create", "bad", "--file", bad, "--tenant", TENANT, data_dir=shop)
    )

    assert f"{bad}: all_of[0].orders.min: a whole number from 0 to" in message
    assert f"{bad}: all_of[1].rfm.r: high must not be below low" in message
    not_json = failed_cleanly(
        kindbot("segment", "create", "x", "--json", "{", "--tenant", TENANT, data_dir=shop)
    )
    assert "--json: definition: not valid JSON" in not_json
    both = failed_cleanly(
        kindbot("segment", "create", "x", "--json", "{}", "--file", bad, data_dir=shop)
    )
    assert "exactly one of --file FILE or --json TEXT" in both
    segment(shop, "create", "all", "--json", '{"all_of": []}')
    taken = failed_cleanly(
        kindbot("segment", "create", "all", "--json", '{"all_of": []}', "--tenant", TENANT,
                data_dir=shop)
    )  # fmt: skip
    assert "already has a segment 'all'" in taken
    assert query_db(shop, "SELECT name FROM segments") == [("all",)]
