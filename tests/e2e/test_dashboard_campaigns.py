"""The campaigns pages: a shop admin plans a campaign for a segment, a second admin
approves it (never its creator), delivery progresses through the guard, and the report
compares the messaged with the holdout."""

from __future__ import annotations

import csv
import html
import io
import re

import httpx
from tests.e2e.test_api_campaigns import setup_audience
from tests.e2e.test_dashboard_accounts import _csrf_of, _member, _sign_in
from tests.support.api import TENANT, bearer, new_key

from kindbot.bootstrap import Container
from kindbot.core.records.accounts import Role

PAGE = f"/dashboard/{TENANT}/campaigns"


def _text(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"\s+", " ", page.text)))


async def _prepared(container: Container, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    key = bearer(await new_key(client, admin))
    await setup_audience(client, key, container)  # ten vip contacts, approval above five
    segment = {"name": "vips", "definition": {"all_of": [{"tags": {"all": ["vip"]}}]}}
    made = await client.post(f"/api/v1/tenants/{TENANT}/segments", headers=key, json=segment)
    assert made.status_code == 201, made.text
    await _member(container, "ann@teashop.cn", Role.TENANT_ADMIN)
    await _member(container, "ben@teashop.cn", Role.TENANT_ADMIN)


async def test_plan_approve_by_another_admin_deliver_and_report(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await _prepared(container, client, admin)
    await _sign_in(client, "ann@teashop.cn")
    form = {
        "csrf": _csrf_of(await client.get(PAGE)),
        "name": "龙井上新",
        "audience": "segment:vips",
        "topic": "new-tea",
        "text_a": "明前龙井到了，回复 TD 退订。",
        "holdout": "20",
        "days": "7",
    }
    created = await client.post(PAGE, data=form)
    assert created.status_code == 303, created.text
    detail = created.headers["location"]

    page = await client.get(detail, headers={"accept-language": "en"})
    text = _text(page)
    assert "awaiting approval" in text
    listed = await client.get(PAGE, headers={"accept-language": "en"})
    assert "8 + 2 held out" in _text(listed)
    assert 'id="plan"' in page.text
    assert "allow" in text  # the plan: who may receive it now
    own = await client.post(f"{detail}/approve", data={"csrf": _csrf_of(page)})
    assert own.status_code == 400
    assert "someone other than its creator" in _text(own)

    client.cookies.clear()
    await _sign_in(client, "ben@teashop.cn")
    page = await client.get(detail)
    approved = await client.post(f"{detail}/approve", data={"csrf": _csrf_of(page)})
    assert approved.status_code == 303
    await container.campaign_delivery.run_once()  # the worker's pass

    progress = await client.get(f"{detail}/progress")
    assert re.search(r'id="n-sent">8<', progress.text)
    assert re.search(r'id="n-holdout">2<', progress.text)
    report = await client.get(detail, headers={"accept-language": "en"})
    assert "Report against the holdout" in report.text
    exported = await client.get(f"{detail}/report.csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert [r[2] for r in rows[1:]] == ["treatment", "holdout"]
    assert [r[3] for r in rows[1:]] == ["8", "2"]


async def test_a_bad_form_is_explained_and_roles_are_enforced(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await _prepared(container, client, admin)
    await _sign_in(client, "ann@teashop.cn")
    csrf = _csrf_of(await client.get(PAGE))
    bad = await client.post(
        PAGE,
        data={"csrf": csrf, "name": "x", "audience": "segment:vips", "topic": "new-tea",
              "text_a": "hi", "holdout": "80"},
    )  # fmt: skip
    assert bad.status_code == 400
    assert "holdout: from 0 to 50" in _text(bad)
    assert (await client.get(PAGE)).text.count('href="/dashboard/teashop/campaigns/') == 0

    client.cookies.clear()
    await _member(container, "viewer@teashop.cn", Role.VIEWER)
    await _sign_in(client, "viewer@teashop.cn")
    viewer = await client.get(PAGE)
    assert viewer.status_code == 200
    assert 'action="/dashboard/teashop/campaigns"' not in viewer.text
    refused = await client.post(PAGE, data={"csrf": _csrf_of(viewer), "name": "x"})
    assert refused.status_code == 403

    client.cookies.clear()
    await _member(container, "agent@teashop.cn", Role.AGENT)
    await _sign_in(client, "agent@teashop.cn")
    assert (await client.get(PAGE)).status_code == 403
    assert (await client.get(f"{PAGE}/{'0' * 32}")).status_code == 403
