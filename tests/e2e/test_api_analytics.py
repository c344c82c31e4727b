"""``POST /api/v1/tenants/{slug}/events`` and ``GET …/metrics`` on the real app (both backends).

The demo shop (``teashop``, Asia/Shanghai) receives events through the API;
auth and tenant scoping are the API's own (a key of another tenant is 403).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from tests.support.api import TENANT, bearer, error_of, new_key, say

from kindbot.bootstrap import Container
from kindbot.storage.schema import business_events, contacts

EVENTS = f"/api/v1/tenants/{TENANT}/events"
METRICS = f"/api/v1/tenants/{TENANT}/metrics"


def order(
    event_id: str, user: str, amount: object, at: str = "2027-01-05T10:00:00+08:00"
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "order",
        "occurred_at": at,
        "channel": "hook",
        "external_id": user,
        "amount": amount,
    }


async def count(container: Container, table: Any, *where: Any) -> int:
    async with container.store.engine.connect() as conn:
        query = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(query)).scalar_one())


async def test_a_batch_is_stored_once_and_shows_in_the_metrics(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    key = bearer(await new_key(client, admin))
    await say(client, "zoe", "你好", "m1")  # zoe is a contact by her own message
    batch = {
        "events": [
            order("o1", "zoe", "128.00"),
            order("o2", "walk-in", 19.99),  # a JSON number; a contact kindbot has not seen
            {
                "event_id": "r1",
                "type": "refund",
                "occurred_at": "2027-01-06T09:00:00+08:00",
                "channel": "hook",
                "external_id": "zoe",
                "amount": "28.00",
                "order_id": "o1",
            },
        ]
    }

    first = await client.post(EVENTS, headers=key, json=batch)
    again = await client.post(EVENTS, headers=key, json=batch)
    metrics = await client.get(
        METRICS, headers=key, params={"from": "2027-01-04", "to": "2027-01-11"}
    )

    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 3, "duplicates": 0}
    assert again.json() == {"accepted": 0, "duplicates": 3}
    assert await count(container, business_events) == 3
    assert await count(container, contacts, contacts.c.source == "event") == 1
    document = metrics.json()
    assert metrics.status_code == 200, metrics.text
    assert (document["orders"], document["revenue"]) == (2, "119.99")
    assert document["users"]["active"] == 2


async def test_a_bad_row_names_its_index_and_field_and_nothing_is_stored(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    key = bearer(await new_key(client, admin))
    batch = {"events": [order("o1", "amy", "10.00"), order("o2", "bob", "10.005")]}

    response = await client.post(EVENTS, headers=key, json=batch)

    message = error_of(response, 422, "invalid_events")
    assert "events[1].amount" in message
    assert response.json()["error"]["problems"] == [
        {"index": 1, "field": "amount", "reason": "more than 2 decimal places for CNY"}
    ]
    assert await count(container, business_events) == 0
    assert await count(container, contacts, contacts.c.source == "event") == 0


async def test_an_unknown_channel_is_refused_with_its_index_and_nothing_is_stored(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    key = bearer(await new_key(client, admin))
    stray = order("o2", "bob", "1.00") | {"channel": "nowhere"}
    batch = {"events": [order("o1", "amy", "10.00"), stray]}

    response = await client.post(EVENTS, headers=key, json=batch)

    error_of(response, 422, "invalid_events")
    assert response.json()["error"]["problems"][0]["index"] == 1
    assert response.json()["error"]["problems"][0]["field"] == "channel"
    assert await count(container, business_events) == 0
    assert await count(container, contacts, contacts.c.source == "event") == 0


async def test_more_than_1000_events_are_refused(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    key = bearer(await new_key(client, admin))
    batch = {"events": [order(f"o{i}", "amy", "1") for i in range(1001)]}

    response = await client.post(EVENTS, headers=key, json=batch)

    error_of(response, 413, "too_many_events")
    assert await count(container, business_events) == 0


async def test_malformed_bodies_are_4xx(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    key = bearer(await new_key(client, admin))

    not_json = await client.post(
        EVENTS, headers=key | {"Content-Type": "application/json"}, content=b"{"
    )
    no_list = await client.post(EVENTS, headers=key, json={"events": {"a": 1}})
    extra = await client.post(EVENTS, headers=key, json={"events": [], "more": 1})
    empty = await client.post(EVENTS, headers=key, json={"events": []})

    assert not_json.status_code == 400, not_json.text
    error_of(no_list, 400, "invalid_request")
    error_of(extra, 400, "invalid_request")
    error_of(empty, 400, "invalid_events")


async def test_events_and_metrics_need_a_key_of_the_tenant(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    made = await client.post(
        "/api/v1/tenants", headers=admin, json={"slug": "other", "name": "O", "industry": "retail"}
    )
    assert made.status_code == 201, made.text
    stranger = bearer(await new_key(client, admin, "other"))
    batch = {"events": [order("o1", "amy", "1.00")]}
    period = {"from": "2027-01-04", "to": "2027-01-11"}

    anonymous = await client.post(EVENTS, json=batch)
    foreign = await client.post(EVENTS, headers=stranger, json=batch)
    peek = await client.get(METRICS, headers=stranger, params=period)
    own = await client.get("/api/v1/tenants/other/metrics", headers=stranger, params=period)

    error_of(anonymous, 401, "unauthorized")
    error_of(foreign, 403, "other_tenant")
    error_of(peek, 403, "other_tenant")
    assert own.status_code == 200, own.text
    assert await count(container, business_events) == 0


async def test_metrics_parameters_are_checked(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    def get(**params: object) -> Any:
        return client.get(
            METRICS, headers=admin, params={"from": "2027-01-04", "to": "2027-01-11"} | params
        )

    backwards = await get(**{"from": "2027-01-12"})
    bad_day = await get(to="2027-13-01")
    window = await get(conversion_days=0)
    channel = await get(channel="nowhere")
    missing = await client.get(METRICS, headers=admin, params={"from": "2027-01-04"})
    filtered = await get(channel="hook", conversion_days=7, repurchase_days=14)

    error_of(backwards, 400, "invalid_period")
    error_of(bad_day, 400, "invalid_period")
    error_of(window, 400, "invalid_window")
    error_of(channel, 404, "unknown_channel")
    error_of(missing, 400, "invalid_request")
    assert filtered.status_code == 200, filtered.text
    assert filtered.json()["conversion"]["days"] == 7
    assert filtered.json()["repurchase"]["days"] == 14


async def test_the_series_endpoint_cuts_the_period_into_local_days(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    batch = {
        "events": [
            order("s1", "zoe", "10.00", at="2027-01-05T23:30:00+08:00"),
            order("s2", "amy", "5.50", at="2027-01-06T00:30:00+08:00"),
        ]
    }
    assert (await client.post(EVENTS, headers=key, json=batch)).status_code == 200

    period = {"from": "2027-01-04", "to": "2027-01-11"}
    found = await client.get(f"{METRICS}/series", headers=key, params=period)

    assert found.status_code == 200
    body = found.json()
    assert body["granularity"] == "day"
    busy = [p for p in body["points"] if p["orders"]]
    assert busy == [
        {
            "start": "2027-01-05",
            "end": "2027-01-06",
            "active": 1,
            "orders": 1,
            "revenue": "10.00",
            "value_per_user": "10.00",
        },
        {
            "start": "2027-01-06",
            "end": "2027-01-07",
            "active": 1,
            "orders": 1,
            "revenue": "5.50",
            "value_per_user": "5.50",
        },
    ]
    bad = await client.get(f"{METRICS}/series", headers=key, params={"from": "x", "to": "y"})
    assert "from" in error_of(bad, 400, "invalid_period")


async def test_a_real_fallback_and_an_agents_answer_are_in_conversation_health(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    await say(client, "zoe", "请问你们支持火星快递吗 qzxv", "m1")  # nothing in the FAQ answers
    await say(client, "amy", "人工", "m2")  # asks for a person
    agent = await client.post(f"/api/v1/tenants/{TENANT}/agents", headers=key, json={"name": "ann"})
    assert agent.status_code == 201, agent.text
    acting = {**key, "X-Kindbot-Agent": agent.json()["id"]}
    inbox = (await client.get(f"/api/v1/tenants/{TENANT}/inbox", headers=key)).json()
    conversation = inbox["conversations"][0]["conversation_id"]
    claimed = await client.post(
        f"/api/v1/tenants/{TENANT}/inbox/{conversation}/claim", headers=acting
    )
    assert claimed.status_code == 200, claimed.text
    replied = await client.post(
        f"/api/v1/tenants/{TENANT}/inbox/{conversation}/reply",
        headers=acting,
        json={"text": "您好，我是客服小安"},
    )
    assert replied.status_code == 201, replied.text
    today = container.clock.now().date()
    period = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}

    health = (await client.get(METRICS, headers=key, params=period)).json()["conversations"]

    assert health["conversations"] == 2
    assert health["fallback_share"] == 0.5  # zoe's, not amy's
    assert health["first_response_median_seconds"] == 0.0  # the test clock does not move
