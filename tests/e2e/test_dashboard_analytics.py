"""The analytics page: the value series, the funnels, retention and every channel's figures,
each the same as the metrics API's, each table downloadable as CSV."""

from __future__ import annotations

import csv
import io
import json
import re

import httpx
from tests.e2e.test_api_analytics import EVENTS, METRICS, order
from tests.e2e.test_dashboard_accounts import _member, _sign_in
from tests.support.api import bearer, new_key, say

from kindbot.bootstrap import Container
from kindbot.core.records.accounts import Role

PAGE = "/dashboard/teashop/analytics"
PERIOD = {"from": "2027-01-04", "to": "2027-01-11"}


async def _shop_with_orders(container: Container, client: httpx.AsyncClient, key: str) -> None:
    await say(client, "zoe", "你好", "m1")
    batch = {
        "events": [
            order("o1", "zoe", "128.00"),
            order("o2", "amy", "19.99", at="2027-01-06T09:00:00+08:00"),
            order("o3", "amy", "30.00", at="2027-01-09T23:30:00+08:00"),
            order("o4", "bob", "5.00", at="2027-01-11T00:30:00+08:00"),  # the day after
        ]
    }
    stored = await client.post(EVENTS, headers={"Authorization": key}, json=batch)
    assert stored.status_code == 200, stored.text
    await _member(container, "viewer@teashop.cn", Role.VIEWER)
    await _sign_in(client, "viewer@teashop.cn")


def _csv(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


async def test_the_page_shows_the_metrics_and_the_series_by_local_day(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    await _shop_with_orders(container, client, key["Authorization"])
    document = (await client.get(METRICS, headers=key, params=PERIOD)).json()

    page = await client.get(PAGE, params=PERIOD, headers={"accept-language": "en"})

    assert page.status_code == 200
    assert re.search(r'id="m-revenue">¥177\.99<', page.text)
    assert document["revenue"] == "177.99"
    data = re.search(r'<script type="application/json" id="chart-data">(.+?)</script>', page.text)
    assert data is not None
    charts = json.loads(data.group(1))
    assert charts["series"]["labels"][0] == "2027-01-04"
    assert len(charts["series"]["labels"]) == 7
    # 01-05 zoe (128.00, and her message if sent that day), 01-06 amy, 01-09 23:30 amy.
    assert charts["series"]["revenue"][1] == 128.0
    assert charts["series"]["revenue"][2] == 19.99
    assert charts["series"]["revenue"][5] == 30.0
    assert sum(charts["series"]["revenue"]) == 177.99
    assert charts["funnel"][0]["name"] == "New contacts"
    assert charts["funnel"][0]["value"] == document["conversion"]["cohort"]


async def test_every_table_downloads_as_csv_with_the_pages_figures(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    await _shop_with_orders(container, client, key["Authorization"])
    document = (await client.get(METRICS, headers=key, params=PERIOD)).json()

    series = _csv(await client.get(f"{PAGE}/series.csv", params=PERIOD))
    assert series[0] == ["start", "end", "active_users", "orders", "revenue", "value_per_user"]
    assert series[6] == ["2027-01-09", "2027-01-10", "1", "1", "30.00", "30.00"]
    assert len(series) == 8

    funnel = _csv(await client.get(f"{PAGE}/funnel.csv", params=PERIOD))
    assert funnel[1:] == [
        ["new", str(document["conversion"]["cohort"]), "30"],
        ["converted", str(document["conversion"]["converted"]), "30"],
        ["buyers", str(document["repurchase"]["buyers"]), "90"],
        ["repeat", str(document["repurchase"]["repeat"]), "90"],
    ]

    channels = _csv(await client.get(f"{PAGE}/channels.csv", params=PERIOD))
    hook = next(row for row in channels if row[0] == "hook")
    assert channels[0] == ["channel", "kind", "active_users", "orders", "revenue", "value_per_user"]
    assert hook[3:5] == ["3", "177.99"]

    retention = _csv(await client.get(f"{PAGE}/retention.csv", params=PERIOD))
    assert [r[0] for r in retention[1:]] == [r["cohort_week"] for r in document["retention"]]


async def test_one_channel_limits_the_page_and_a_bad_request_is_explained(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    await _shop_with_orders(container, client, key["Authorization"])

    page = await client.get(PAGE, params={**PERIOD, "channel": "web"})
    assert page.status_code == 200
    assert re.search(r'id="m-revenue">¥0\.00<', page.text)
    assert 'id="per-channel"' not in page.text

    unknown = await client.get(PAGE, params={**PERIOD, "channel": "nope"})
    assert unknown.status_code == 404
    backwards = await client.get(PAGE, params={"from": "2027-01-11", "to": "2027-01-04"})
    assert backwards.status_code == 400
    assert "must be after from" in backwards.text
    assert (await client.get(f"{PAGE}/secrets.csv", params=PERIOD)).status_code == 404


async def test_another_shops_member_cannot_see_the_page(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "stranger@else.cn", None)
    await _sign_in(client, "stranger@else.cn")
    assert (await client.get(PAGE)).status_code == 404
    assert (await client.get(f"{PAGE}/series.csv")).status_code == 404
