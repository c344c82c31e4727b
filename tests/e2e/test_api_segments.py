"""``/api/v1/tenants/{slug}/segments`` on the real app (both backends).

The demo shop (``teashop``, Asia/Shanghai); the test clock is 2026-11-25 10:00
UTC. zoe and yan write on the webhook channel (so they are contacts with an
inbound message now); zoe is tagged ``vip``, consents to ``care`` and has two
orders; walk-in is created by an order event only.
"""

from __future__ import annotations

from typing import Any

import httpx
from tests.support.api import TENANT, bearer, error_of, new_key, say

from kindbot.bootstrap import Container

SEGMENTS = f"/api/v1/tenants/{TENANT}/segments"
ZOE = f"/api/v1/tenants/{TENANT}/contacts/hook/zoe"

TYPICAL = {
    "all_of": [
        {"tags": {"all": ["vip"]}},
        {"consent": "care"},
        {"orders": {"min": 2}},
        {"last_inbound": {"within_days": 30}},
    ]
}


def order(event_id: str, user: str, amount: str, at: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "order",
        "occurred_at": at,
        "channel": "hook",
        "external_id": user,
        "amount": amount,
    }


async def shop(client: httpx.AsyncClient, key: dict[str, str]) -> None:
    await say(client, "zoe", "你好", "m1")
    await say(client, "yan", "在吗", "m2")
    tagged = await client.put(f"{ZOE}/tags/vip", headers=key)
    assert tagged.status_code == 200, tagged.text
    consent = await client.post(
        f"{ZOE}/consents", headers=key, json={"topic": "care", "wording": "send me tea tips"}
    )
    assert consent.status_code == 201, consent.text
    events = await client.post(
        f"/api/v1/tenants/{TENANT}/events",
        headers=key,
        json={
            "events": [
                order("o1", "zoe", "128.00", "2026-11-01T10:00:00+08:00"),
                order("o2", "zoe", "20.00", "2026-11-20T10:00:00+08:00"),
                order("o3", "walk-in", "99.50", "2026-11-21T10:00:00+08:00"),
            ]
        },
    )
    assert events.status_code == 200, events.text


async def test_a_segment_is_saved_previewed_changed_and_deleted(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    key = bearer(await new_key(client, admin))
    await shop(client, key)

    created = await client.post(
        SEGMENTS, headers=key, json={"name": "vip-buyers", "definition": TYPICAL}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "vip-buyers"
    assert body["definition"] == TYPICAL
    assert body["created_by"].startswith("key:")

    preview = await client.get(f"{SEGMENTS}/vip-buyers/preview", headers=key)
    assert preview.status_code == 200, preview.text
    assert preview.json()["count"] == 1
    [member] = preview.json()["sample"]
    assert member["channel"] == "hook"

    buyers = {"all_of": [{"revenue": {"min": "99.50"}}]}
    replaced = await client.put(f"{SEGMENTS}/vip-buyers", headers=key, json={"definition": buyers})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["definition"] == buyers
    preview = await client.get(f"{SEGMENTS}/vip-buyers/preview", headers=key)
    assert preview.json()["count"] == 2  # zoe 148.00, walk-in 99.50

    listed = await client.get(SEGMENTS, headers=key)
    assert [s["name"] for s in listed.json()["segments"]] == ["vip-buyers"]
    shown = await client.get(f"{SEGMENTS}/vip-buyers", headers=key)
    assert shown.json()["definition"] == buyers

    deleted = await client.delete(f"{SEGMENTS}/vip-buyers", headers=key)
    assert deleted.json() == {"deleted": "vip-buyers"}
    error_of(await client.get(f"{SEGMENTS}/vip-buyers", headers=key), 404, "unknown_segment")
    error_of(await client.delete(f"{SEGMENTS}/vip-buyers", headers=key), 404, "unknown_segment")


async def test_an_ad_hoc_preview_counts_and_samples_without_saving(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    await shop(client, key)

    everyone = await client.post(
        f"{SEGMENTS}/preview", headers=key, json={"definition": {"all_of": []}}
    )
    inactive = await client.post(
        f"{SEGMENTS}/preview",
        headers=key,
        json={"definition": {"all_of": [{"last_inbound": {"not_within_days": 1}}]}},
    )

    assert everyone.status_code == 200, everyone.text
    assert everyone.json()["count"] == 3
    ids = [m["contact_id"] for m in everyone.json()["sample"]]
    assert ids == sorted(ids)
    assert inactive.json()["count"] == 1  # walk-in never wrote
    assert (await client.get(SEGMENTS, headers=key)).json() == {"segments": []}


async def test_invalid_definitions_are_422_with_each_path_and_nothing_is_saved(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    bad = {
        "all_of": [
            {"orders": {"min": 3, "max": 1}},
            {"revenue": {"min": "1.234"}},
            {"channel": ["hook"]},
            {"colour": "blue"},
        ]
    }

    response = await client.post(SEGMENTS, headers=key, json={"name": "bad", "definition": bad})

    error_of(response, 422, "invalid_segment")
    assert response.json()["error"]["problems"] == [
        {"path": "all_of[0].orders.max", "reason": "must not be below min"},
        {"path": "all_of[1].revenue.min", "reason": "more than 2 decimal places for CNY"},
        {
            "path": "all_of[3]",
            "reason": "unknown condition 'colour'; one of: tags, channel, consent, last_inbound, "
            "first_seen, orders, revenue, last_order, rfm, source, attribute",
        },
    ]
    unknown_channel = await client.post(
        f"{SEGMENTS}/preview", headers=key, json={"definition": {"all_of": [{"channel": ["sms"]}]}}
    )
    assert error_of(unknown_channel, 422, "invalid_segment").endswith("no channel 'sms'")
    bad_name = await client.post(
        SEGMENTS, headers=key, json={"name": "a b", "definition": {"all_of": []}}
    )
    error_of(bad_name, 422, "invalid_segment")
    not_json = await client.post(
        SEGMENTS, headers={**key, "Content-Type": "application/json"}, content=b"{nope"
    )
    error_of(not_json, 400, "invalid_json")
    error_of(
        await client.post(SEGMENTS, headers=key, json={"definition": {}}), 400, "invalid_request"
    )
    attribute = {"all_of": [{"attribute": {"name": "city", "op": "eq", "value": "杭州"}}]}
    undeclared = await client.post(
        SEGMENTS, headers=key, json={"name": "city", "definition": attribute}
    )
    assert "not a declared attribute" in error_of(undeclared, 422, "invalid_segment")
    assert (await client.get(SEGMENTS, headers=key)).json() == {"segments": []}
    # The demo shop declares vip_level (a number).
    vip = {"all_of": [{"attribute": {"name": "vip_level", "op": "gte", "value": 3}}]}
    made = await client.post(SEGMENTS, headers=key, json={"name": "vip3", "definition": vip})
    assert made.status_code == 201, made.text


async def test_names_are_unique_per_tenant_and_keys_stay_in_their_tenant(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    body = {"name": "all", "definition": {"all_of": []}}
    assert (await client.post(SEGMENTS, headers=key, json=body)).status_code == 201
    error_of(await client.post(SEGMENTS, headers=key, json=body), 409, "segment_exists")
    other = await client.post(
        "/api/v1/tenants", headers=admin, json={"slug": "other", "name": "O", "industry": "retail"}
    )
    assert other.status_code == 201, other.text
    other_key = bearer(await new_key(client, admin, "other"))
    error_of(await client.get(SEGMENTS, headers=other_key), 403, "other_tenant")
    theirs = await client.post("/api/v1/tenants/other/segments", headers=other_key, json=body)
    assert theirs.status_code == 201, theirs.text  # the same name in another tenant
    error_of(await client.get(SEGMENTS), 401, "unauthorized")
