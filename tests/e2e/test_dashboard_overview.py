"""The overview page shows the metrics document of the period: users × value per user = revenue."""

from __future__ import annotations

import csv
import io
import re

import httpx
from tests.e2e.test_api_analytics import EVENTS, METRICS, order
from tests.e2e.test_dashboard_accounts import _member, _sign_in
from tests.support.api import bearer, new_key, say

from kindbot.bootstrap import Container
from kindbot.core.records.accounts import Role

OVERVIEW = "/dashboard/teashop/overview"
PERIOD = {"from": "2027-01-04", "to": "2027-01-11"}


def _figure(page: httpx.Response, name: str) -> str:
    found = re.search(rf'id="m-{name}">([^<]+)<', page.text)
    assert found, name
    return found.group(1)


async def test_the_overview_shows_the_same_figures_as_the_metrics_api(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    await say(client, "zoe", "你好", "m1")
    batch = {
        "events": [
            order("o1", "zoe", "128.00"),
            order("o2", "amy", "19.99"),
            order("o3", "zoe", "30.00", at="2026-12-30T10:00:00+08:00"),  # the period before
        ]
    }
    assert (await client.post(EVENTS, headers=key, json=batch)).status_code == 200
    document = (await client.get(METRICS, headers=key, params=PERIOD)).json()

    await _member(container, "viewer@teashop.cn", Role.VIEWER)
    await _sign_in(client, "viewer@teashop.cn")
    page = await client.get(OVERVIEW, params=PERIOD, headers={"accept-language": "en"})
    assert page.status_code == 200
    assert _figure(page, "active") == str(document["users"]["active"]) == "2"
    assert _figure(page, "revenue") == f"¥{document['revenue']}" == "¥147.99"
    assert _figure(page, "vpu") == f"¥{document['value_per_user']}"
    ratio = document["value_decomposition"]["revenue_ratio"]
    assert f"{(ratio - 1) * 100:+.1f}%" in page.text  # against the week before
    assert "Weekly retention cohorts" in page.text

    exported = await client.get(f"{OVERVIEW}/retention.csv", params=PERIOD)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:2] == ["cohort_week", "size"]
    assert [r[0] for r in rows[1:]] == [r["cohort_week"] for r in document["retention"]]


async def test_a_bad_period_is_explained_not_a_crash(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "viewer@teashop.cn", Role.VIEWER)
    await _sign_in(client, "viewer@teashop.cn")
    page = await client.get(OVERVIEW, params={"from": "2027-01-11", "to": "2027-01-04"})
    assert page.status_code == 400
    assert "must be after from" in page.text
    default = await client.get(OVERVIEW, params={"days": "7"})
    assert default.status_code == 200
    assert 'id="m-revenue"' in default.text
