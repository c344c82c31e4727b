"""Tenant isolation, route by route: another tenant's key reaches nothing of the teashop.

The routes are enumerated from the app itself; a route without a case in
:data:`CASES` fails :func:`test_every_api_route_has_an_isolation_case`, so a new
route must say how it is called. Every case is called with the other tenant's
key (1) on the teashop's slug and its ids, and (2) when the route takes ids
besides the slug, on the other tenant's own slug with the teashop's ids. Each
answer must be a 4xx without the teashop's data, and the database must be
unchanged afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tests.support.api import bearer, new_key, say
from tests.support.routes import walk_routes

from kindbot.bootstrap import Container
from kindbot.storage.schema_base import metadata
from kindbot.web.app import build_app

A = "teashop"
B = "other"
SECRET_TEXT = "isolation-marker-看不见"

# (method, path) -> request body (None: no body). Path parameters are filled from the ids.
CASES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", "/api/v1/moderation/terms"): None,
    ("POST", "/api/v1/moderation/terms"): {"term": "isolation-term", "action": "deny"},
    ("DELETE", "/api/v1/moderation/terms/{term}"): None,
    ("GET", "/api/v1/tenants"): None,
    ("POST", "/api/v1/tenants"): {"slug": "third", "name": "T", "industry": "retail"},
    ("GET", "/api/v1/tenants/{slug}"): None,
    ("GET", "/api/v1/tenants/{slug}/agents"): None,
    ("POST", "/api/v1/tenants/{slug}/agents"): {"name": "mallory"},
    ("POST", "/api/v1/tenants/{slug}/agents/{agent}/offline"): None,
    ("POST", "/api/v1/tenants/{slug}/agents/{agent}/online"): None,
    ("GET", "/api/v1/tenants/{slug}/api-keys"): None,
    ("POST", "/api/v1/tenants/{slug}/api-keys"): {},
    ("DELETE", "/api/v1/tenants/{slug}/api-keys/{key}"): None,
    ("POST", "/api/v1/tenants/{slug}/approve"): {"reason": "x"},
    ("POST", "/api/v1/tenants/{slug}/suspend"): {"reason": "x"},
    ("POST", "/api/v1/tenants/{slug}/reinstate"): {"reason": "x"},
    ("GET", "/api/v1/tenants/{slug}/audit/export"): None,
    ("GET", "/api/v1/tenants/{slug}/audit/verify"): None,
    ("POST", "/api/v1/tenants/{slug}/broadcasts"): {"tag": "vip", "topic": "t", "text": "hi"},
    ("GET", "/api/v1/tenants/{slug}/broadcasts/{broadcast_id}"): None,
    ("POST", "/api/v1/tenants/{slug}/broadcasts/{broadcast_id}/approve"): None,
    ("GET", "/api/v1/tenants/{slug}/contacts"): None,
    ("GET", "/api/v1/tenants/{slug}/contacts/{contact_id}/attributes"): None,
    ("PUT", "/api/v1/tenants/{slug}/contacts/{contact_id}/attributes"): {"vip_level": 1},
    ("GET", "/api/v1/tenants/{slug}/contacts/{contact_id}/timeline"): None,
    ("GET", "/api/v1/tenants/{slug}/campaigns"): None,
    ("POST", "/api/v1/tenants/{slug}/campaigns"): {
        "name": "n",
        "topic": "new-tea",
        "audience": {"tag": "vip"},
        "variants": [{"name": "A", "text": "hi"}],
    },
    ("GET", "/api/v1/tenants/{slug}/campaigns/{campaign_id}"): None,
    ("GET", "/api/v1/tenants/{slug}/campaigns/{campaign_id}/report"): None,
    ("POST", "/api/v1/tenants/{slug}/campaigns/{campaign_id}/submit"): None,
    ("POST", "/api/v1/tenants/{slug}/campaigns/{campaign_id}/approve"): None,
    ("POST", "/api/v1/tenants/{slug}/campaigns/{campaign_id}/cancel"): None,
    ("DELETE", "/api/v1/tenants/{slug}/contacts/{channel}/{external_id}"): None,
    ("GET", "/api/v1/tenants/{slug}/contacts/{channel}/{external_id}/consents"): None,
    ("POST", "/api/v1/tenants/{slug}/contacts/{channel}/{external_id}/consents"): {
        "topic": "t",
        "wording": "w",
    },
    ("DELETE", "/api/v1/tenants/{slug}/contacts/{channel}/{external_id}/consents"): None,
    ("DELETE", "/api/v1/tenants/{slug}/contacts/{channel}/{external_id}/consents/{topic}"): None,
    ("GET", "/api/v1/tenants/{slug}/contacts/{channel}/{external_id}/export"): None,
    ("POST", "/api/v1/tenants/{slug}/contacts/{channel}/{external_id}/messages"): {
        "topic": "t",
        "text": "hi",
    },
    ("PUT", "/api/v1/tenants/{slug}/contacts/{channel}/{external_id}/tags/{tag}"): None,
    ("DELETE", "/api/v1/tenants/{slug}/contacts/{channel}/{external_id}/tags/{tag}"): None,
    ("POST", "/api/v1/tenants/{slug}/guard/explain"): {
        "channel": "hook",
        "external_id": "zoe",
        "text": "hi",
    },
    ("POST", "/api/v1/tenants/{slug}/guard/plan"): {"tag": "vip", "topic": "t", "text": "hi"},
    ("GET", "/api/v1/tenants/{slug}/guard/standing"): None,
    ("POST", "/api/v1/tenants/{slug}/events"): {
        "events": [
            {
                "event_id": "iso-1",
                "type": "order",
                "occurred_at": "2027-01-05T10:00:00+08:00",
                "channel": "hook",
                "external_id": "zoe",
                "amount": "1.00",
            }
        ]
    },
    ("GET", "/api/v1/tenants/{slug}/metrics"): None,
    ("GET", "/api/v1/tenants/{slug}/metrics/series"): None,
    ("GET", "/api/v1/tenants/{slug}/guard/settings"): None,
    ("PUT", "/api/v1/tenants/{slug}/guard/settings"): {"per_contact_month": 1},
    ("GET", "/api/v1/tenants/{slug}/journeys"): None,
    ("GET", "/api/v1/tenants/{slug}/journeys/{name}"): None,
    ("PUT", "/api/v1/tenants/{slug}/journeys/{name}"): {
        "trigger": {"event": "order"},
        "delay": "1d",
        "topic": "care",
        "text": "x",
    },
    ("DELETE", "/api/v1/tenants/{slug}/journeys/{name}"): None,
    ("GET", "/api/v1/tenants/{slug}/journeys/{name}/runs"): None,
    ("GET", "/api/v1/tenants/{slug}/inbox"): None,
    ("GET", "/api/v1/tenants/{slug}/inbox/events"): None,
    ("GET", "/api/v1/tenants/{slug}/inbox/{conversation_id}"): None,
    ("POST", "/api/v1/tenants/{slug}/inbox/{conversation_id}/claim"): None,
    ("POST", "/api/v1/tenants/{slug}/inbox/{conversation_id}/reply"): {"text": "hi"},
    ("POST", "/api/v1/tenants/{slug}/inbox/{conversation_id}/resolve"): None,
    ("POST", "/api/v1/tenants/{slug}/inbox/{conversation_id}/transfer"): {"agent": "ann"},
    ("POST", "/api/v1/tenants/{slug}/moderation/screen"): {"text": "hi"},
    ("GET", "/api/v1/tenants/{slug}/moderation/terms"): None,
    ("POST", "/api/v1/tenants/{slug}/moderation/terms"): {"term": "x-term", "action": "deny"},
    ("DELETE", "/api/v1/tenants/{slug}/moderation/terms/{term}"): None,
    ("GET", "/api/v1/tenants/{slug}/segments"): None,
    ("POST", "/api/v1/tenants/{slug}/segments"): {"name": "iso", "definition": {"all_of": []}},
    ("POST", "/api/v1/tenants/{slug}/segments/preview"): {"definition": {"all_of": []}},
    ("GET", "/api/v1/tenants/{slug}/segments/{name}"): None,
    ("PUT", "/api/v1/tenants/{slug}/segments/{name}"): {"definition": {"all_of": []}},
    ("DELETE", "/api/v1/tenants/{slug}/segments/{name}"): None,
    ("GET", "/api/v1/tenants/{slug}/segments/{name}/preview"): None,
    ("GET", "/api/v1/tenants/{slug}/test-contacts"): None,
    ("POST", "/api/v1/tenants/{slug}/test-contacts"): {"channel": "hook", "external_id": "zoe"},
}
UNDOCUMENTED = {"/api/v1/openapi.json", "/api/v1/docs"}
OWN_NAMES = {("PUT", "/api/v1/tenants/{slug}/journeys/{name}")}
"""Routes whose ids are names a shop chooses in its own namespace: on the other shop's
own slug they declare that shop's own journey (not the teashop's), so only the
teashop's slug is tried."""


def api_routes() -> set[tuple[str, str]]:
    return {
        (m, p)
        for m, p in walk_routes(build_app().routes)
        if p.startswith("/api/v1") and p not in UNDOCUMENTED
    }


def test_every_api_route_has_an_isolation_case() -> None:
    routes = api_routes()
    assert len(routes) > 40
    missing = sorted(routes - CASES.keys())
    assert not missing, f"add an isolation case for each new route: {missing}"
    assert not sorted(CASES.keys() - routes), "cases for routes that no longer exist"


async def snapshot(container: Container) -> dict[str, int]:
    counts = {}
    async with container.store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            query = select(func.count()).select_from(table)
            counts[table.name] = (await conn.execute(query)).scalar_one()
    return counts


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def teashop_ids(
    client: httpx.AsyncClient, key: dict[str, str], admin: dict[str, str]
) -> dict[str, str]:
    """Real ids of the teashop's data: a contact in the inbox, an agent, a key, a broadcast,
    a (draft) campaign."""
    await say(client, "zoe", SECRET_TEXT, "m1")
    await say(client, "zoe", "人工", "m2")
    agent = await client.post(f"/api/v1/tenants/{A}/agents", headers=key, json={"name": "ann"})
    assert agent.status_code == 201, agent.text
    inbox = (await client.get(f"/api/v1/tenants/{A}/inbox", headers=key)).json()
    contact = f"/api/v1/tenants/{A}/contacts/hook/zoe"
    consent = {"topic": "new-tea", "wording": "新茶上市时通知我"}
    assert (await client.post(f"{contact}/consents", headers=key, json=consent)).status_code < 300
    assert (await client.put(f"{contact}/tags/vip", headers=key)).status_code < 300
    term = {"term": "特供茶", "action": "deny", "category": "fraud"}
    assert (
        await client.post(f"/api/v1/tenants/{A}/moderation/terms", headers=key, json=term)
    ).status_code < 300
    created = await client.post(
        f"/api/v1/tenants/{A}/broadcasts",
        headers=key,
        json={"tag": "vip", "topic": "new-tea", "text": "明前龙井上市"},
    )
    assert created.status_code == 201, created.text
    tips = {"trigger": {"event": "order"}, "delay": "3d", "topic": "new-tea", "text": "小贴士"}
    journey = await client.put(f"/api/v1/tenants/{A}/journeys/vips", headers=key, json=tips)
    assert journey.status_code == 200, journey.text
    segment = {"name": "vips", "definition": {"all_of": [{"tags": {"all": ["vip"]}}]}}
    made = await client.post(f"/api/v1/tenants/{A}/segments", headers=key, json=segment)
    assert made.status_code == 201, made.text
    campaign = await client.post(
        f"/api/v1/tenants/{A}/campaigns",
        headers=key,
        json={
            "name": SECRET_TEXT,
            "topic": "new-tea",
            "audience": {"tag": "vip"},
            "variants": [{"name": "A", "text": SECRET_TEXT}],
            "draft": True,
        },
    )
    assert campaign.status_code == 201, campaign.text
    keys = (await client.get(f"/api/v1/tenants/{A}/api-keys", headers=admin)).json()
    listed = await client.get(f"/api/v1/tenants/{A}/contacts", headers=key, params={"q": "zoe"})
    assert listed.status_code == 200, listed.text
    return {
        "contact_id": listed.json()["contacts"][0]["id"],
        "name": "vips",
        "channel": "hook",
        "external_id": "zoe",
        "topic": "new-tea",
        "tag": "vip",
        "term": "特供茶",
        "agent": agent.json()["id"],
        "key": keys[0]["id"],
        "broadcast_id": created.json()["broadcast"]["id"],
        "campaign_id": campaign.json()["campaign"]["id"],
        "conversation_id": inbox["conversations"][0]["conversation_id"],
    }


async def test_another_tenants_key_reaches_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    own = bearer(await new_key(client, admin, A))
    made = await client.post(
        "/api/v1/tenants", headers=admin, json={"slug": B, "name": "Other", "industry": "retail"}
    )
    assert made.status_code == 201, made.text
    stranger = bearer(await new_key(client, admin, B))
    ids = await teashop_ids(client, own, admin)
    for _ in range(500):  # the teashop's broadcast is sent by a supervised background job
        if container.supervisor.running == 0:
            break
        await asyncio.sleep(0.02)
    before = await snapshot(container)

    answers = []
    for (method, path), body in sorted(CASES.items()):
        slugs = [A] + ([B] if path.count("{") > 1 and (method, path) not in OWN_NAMES else [])
        for slug in slugs:
            url = path.format(slug=slug, **ids)
            headers = {**stranger, "X-Kindbot-Agent": ids["agent"]}
            response = await client.request(
                method, url, headers=headers, json=body if body is not None else None
            )
            answers.append((method, url, response.status_code))
            assert response.status_code in {403, 404}, (method, url, response.text)
            assert SECRET_TEXT not in response.text, (method, url)

    assert await snapshot(container) == before, "a refused request changed the database"
    assert len(answers) > len(CASES)
