"""``kindbot journey list|runs|withdraw`` on a bundle that declares journeys."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.test_cli_end_to_end import failed_cleanly, succeeded
from tests.support.cli import kindbot

BUNDLE = """tenant: {slug: shop2, name: Shop, industry: retail}
channels:
  - {id: hook, type: webhook, secret: 0123456789abcdef0123}
journeys:
  - {name: tips, trigger: {event: order}, delay: 3d, topic: care, text: 冲泡小贴士}
  - {name: hi, trigger: {first_contact: true}, delay: 1h, topic: news, text: Hi}
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    bundle = tmp_path / "shop2.yaml"
    bundle.write_text(BUNDLE, encoding="utf-8")
    succeeded(kindbot("apply", bundle, data_dir=data_dir))
    return data_dir


def test_list_shows_each_journey_and_withdraw_disables_it(shop: Path) -> None:
    listed = succeeded(kindbot("journey", "list", "--tenant", "shop2", data_dir=shop)).stdout
    assert "tips" in listed
    assert "event:order" in listed
    assert "first_contact" in listed
    assert "3d" in listed

    withdrawn = succeeded(
        kindbot("journey", "withdraw", "hi", "--tenant", "shop2", data_dir=shop)
    ).stdout
    assert "0 scheduled runs cancelled" in withdrawn
    runs = succeeded(kindbot("journey", "runs", "tips", "--tenant", "shop2", data_dir=shop)).stdout
    assert "status" in runs


def test_unknown_journeys_and_statuses_are_clear_errors(shop: Path) -> None:
    missing = kindbot("journey", "runs", "nope", "--tenant", "shop2", data_dir=shop)
    assert "no journey 'nope'" in failed_cleanly(missing)
    bad = kindbot("journey", "runs", "tips", "--status", "x", "--tenant", "shop2", data_dir=shop)
    assert "--status: one of" in failed_cleanly(bad)
