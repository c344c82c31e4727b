"""``kindbot contact list``, ``contact timeline`` and ``contact attr``, run as a user runs
them (in this process), on the demo shop (``teashop``: attributes ``vip_level``
number, ``birthday`` date, ``wholesale`` bool, ``favourite_tea`` text).

Contacts come from imported business events (amy: two orders, bob: one order
and a refund, cai: a sign-up); amy is tagged ``vip``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.test_cli_end_to_end import (
    DEMO_SOURCE,
    TENANT,
    copy_demo,
    failed_cleanly,
    query_db,
    succeeded,
)
from tests.support.cli import kindbot

EVENTS = """event_id,type,occurred_at,channel,external_id,amount,currency,order_id,properties
o1,order,2026-11-20T10:00:00+08:00,hook,amy,128.00,CNY,1001,
o2,order,2026-11-21T10:00:00+08:00,hook,amy,30.50,CNY,1002,
o3,order,2026-11-22T10:00:00+08:00,hook,bob,20,,1003,
r1,refund,2026-11-23T09:00:00+08:00,hook,bob,5.00,CNY,1003,
s1,signup,2026-11-24T09:00:00+08:00,hook,cai,,,,
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir))
    events = tmp_path / "events.csv"
    events.write_text(EVENTS, encoding="utf-8")
    succeeded(kindbot("events", "import", events, "--tenant", TENANT, data_dir=data_dir))
    succeeded(
        kindbot("tag", "add", "vip", "--channel", "hook", "--user", "amy", "--tenant", TENANT,
                data_dir=data_dir)
    )  # fmt: skip
    return data_dir


def listing(data_dir: Path, *options: str) -> dict[str, Any]:
    run = kindbot("contact", "list", "--tenant", TENANT, "--json", *options, data_dir=data_dir)
    document: dict[str, Any] = json.loads(succeeded(run).stdout)
    return document


def names(data_dir: Path, *options: str) -> list[str]:
    return [c["external_id"] for c in listing(data_dir, *options)["contacts"]]


def contact_id(data_dir: Path, user: str) -> str:
    (row,) = [c for c in listing(data_dir, "--q", user)["contacts"] if c["external_id"] == user]
    return str(row["id"])


def test_the_list_filters_and_shows_figures(shop: Path) -> None:
    document = listing(shop, "--sort", "name")
    rows = {c["external_id"]: c for c in document["contacts"]}
    assert list(rows) == ["amy", "bob", "cai"]
    assert (rows["amy"]["orders"], rows["amy"]["revenue"], rows["amy"]["tags"]) == (
        2,
        "158.50",
        ["vip"],
    )
    assert (rows["bob"]["orders"], rows["bob"]["revenue"]) == (1, "15.00")
    assert rows["cai"]["source"] == "event"
    assert document["next_cursor"] is None
    assert names(shop, "--tag", "vip") == ["amy"]
    assert names(shop, "--min-orders", "1", "--sort", "revenue") == ["amy", "bob"]
    assert names(shop, "--min-revenue", "15.01") == ["amy"]
    assert names(shop, "--channel", "web") == []
    first = listing(shop, "--sort", "name", "--limit", "2")
    assert [c["external_id"] for c in first["contacts"]] == ["amy", "bob"]
    rest = listing(shop, "--sort", "name", "--limit", "2", "--cursor", first["next_cursor"])
    assert [c["external_id"] for c in rest["contacts"]] == ["cai"]


def test_the_list_reads_as_a_table(shop: Path) -> None:
    run = succeeded(kindbot("contact", "list", "--tenant", TENANT, data_dir=shop))
    assert "3 contact(s)" in run.stdout
    for user in ("amy", "bob", "cai"):
        assert user in run.stdout


def test_attributes_are_set_and_filtered(shop: Path) -> None:
    amy, bob = contact_id(shop, "amy"), contact_id(shop, "bob")
    run = kindbot(
        "contact", "attr", "set", "--tenant", TENANT, amy,
        "vip_level=3", "birthday=1990-05-01", "wholesale=yes", "favourite_tea=龙井 Longjing",
        data_dir=shop,
    )  # fmt: skip
    assert json.loads(succeeded(run).stdout)["attributes"] == {
        "birthday": "1990-05-01",
        "favourite_tea": "龙井 Longjing",
        "vip_level": "3",
        "wholesale": True,
    }
    succeeded(kindbot("contact", "attr", "set", "-t", TENANT, bob, "vip_level=1.5", data_dir=shop))
    assert names(shop, "--attr", "vip_level:gte:2") == ["amy"]
    assert names(shop, "--attr", "vip_level:set", "--sort", "name") == ["amy", "bob"]
    assert names(shop, "--attr", "wholesale:eq:true") == ["amy"]
    assert names(shop, "--attr", "favourite_tea:contains:longjing") == ["amy"]
    cleared = kindbot("contact", "attr", "set", "-t", TENANT, amy, "favourite_tea=", data_dir=shop)
    assert "favourite_tea" not in json.loads(succeeded(cleared).stdout)["attributes"]
    shown = kindbot("contact", "attr", "show", "-t", TENANT, bob, data_dir=shop)
    assert json.loads(succeeded(shown).stdout)["attributes"] == {"vip_level": "1.5"}


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["vip_level=high"], "vip_level"),
        (["vip_level=2", "wholesale=perhaps"], "wholesale"),
        (["birthday=1990-13-01"], "birthday"),
        (["shoe_size=42"], "shoe_size"),
        (["vip_level"], "vip_level"),  # no "="
        (["vip_level=1", "vip_level=2"], "given twice"),
    ],
)
def test_a_bad_value_names_the_field_and_applies_nothing(
    shop: Path, arguments: list[str], named: str
) -> None:
    amy = contact_id(shop, "amy")
    run = kindbot("contact", "attr", "set", "-t", TENANT, amy, *arguments, data_dir=shop)
    message = failed_cleanly(run)
    assert named in message
    assert "nothing was applied" in message
    assert query_db(shop, "SELECT count(*) FROM contact_attributes") == [(0,)]


def test_unknown_contacts_and_bad_filters_fail_cleanly(shop: Path) -> None:
    run = kindbot("contact", "attr", "set", "-t", TENANT, "nobody", "vip_level=1", data_dir=shop)
    assert "no contact 'nobody'" in failed_cleanly(run)
    run = kindbot("contact", "timeline", "-t", TENANT, "nobody", data_dir=shop)
    assert "no contact 'nobody'" in failed_cleanly(run)
    run = kindbot("contact", "list", "-t", TENANT, "--attr", "age:gt:3", data_dir=shop)
    assert "attr[0]" in failed_cleanly(run)
    run = kindbot("contact", "list", "-t", TENANT, "--sort", "age", data_dir=shop)
    assert "sort" in failed_cleanly(run)


def test_the_timeline_lists_events_newest_first(shop: Path) -> None:
    bob = contact_id(shop, "bob")
    run = kindbot("contact", "timeline", "-t", TENANT, bob, "--json", data_dir=shop)
    document = json.loads(succeeded(run).stdout)
    assert [(i["kind"], i["id"], i["type"], i["amount"]) for i in document["items"]] == [
        ("event", "r1", "refund", "5.00"),
        ("event", "o3", "order", "20.00"),
    ]
    assert document["next_cursor"] is None
    paged = kindbot("contact", "timeline", "-t", TENANT, bob, "--limit", "1", "--json",
                    data_dir=shop)  # fmt: skip
    first = json.loads(succeeded(paged).stdout)
    assert [i["id"] for i in first["items"]] == ["r1"]
    rest = kindbot("contact", "timeline", "-t", TENANT, bob, "--json", "--cursor",
                   first["next_cursor"], data_dir=shop)  # fmt: skip
    assert [i["id"] for i in json.loads(succeeded(rest).stdout)["items"]] == ["o3"]
    text = succeeded(kindbot("contact", "timeline", "-t", TENANT, bob, data_dir=shop)).stdout
    assert "refund" in text
    assert text.index("r1") < text.index("o3")


def test_erasure_counts_events_and_attributes(shop: Path) -> None:
    amy = contact_id(shop, "amy")
    succeeded(kindbot("contact", "attr", "set", "-t", TENANT, amy, "vip_level=3", data_dir=shop))
    run = kindbot("contact", "erase", "-t", TENANT, "--channel", "hook", "--user", "amy", "--yes",
                  data_dir=shop)  # fmt: skip
    out = succeeded(run).stdout
    assert "2 events" in out
    assert "1 attributes" in out
    assert "1 tags" in out
    assert names(shop, "--sort", "name") == ["bob", "cai"]


def test_apply_reports_declarations_and_the_values_a_retype_deletes(
    shop: Path, tmp_path: Path
) -> None:
    amy = contact_id(shop, "amy")
    succeeded(kindbot("contact", "attr", "set", "-t", TENANT, amy, "vip_level=3", data_dir=shop))
    bundle = copy_demo(tmp_path / "bundle")
    text = bundle.read_text(encoding="utf-8")
    assert "{name: vip_level, type: number" in text
    bundle.write_text(
        text.replace("{name: vip_level, type: number", "{name: vip_level, type: text"),
        encoding="utf-8",
    )
    out = succeeded(kindbot("apply", bundle, data_dir=shop)).stdout
    assert "attributes: changed vip_level" in out
    assert "attribute values deleted: 1" in out
    shown = kindbot("contact", "attr", "show", "-t", TENANT, amy, data_dir=shop)
    assert json.loads(succeeded(shown).stdout)["attributes"] == {}
    again = succeeded(kindbot("apply", bundle, data_dir=shop)).stdout
    assert "attributes" not in again
