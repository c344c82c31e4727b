"""``/api/v1/tenants/{slug}/contacts``: the list, attributes and timeline on the real app
(both backends).

The demo shop (``teashop``) declares ``vip_level`` (number), ``birthday`` (date),
``wholesale`` (bool) and ``favourite_tea`` (text). Contacts write to its webhook
channel ``hook``; events, consents and tags arrive through their own routes.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.support.api import TENANT, bearer, error_of, new_key, say

from kindbot.bootstrap import Container
from kindbot.storage.schema import contact_attributes

CONTACTS = f"/api/v1/tenants/{TENANT}/contacts"


@pytest.fixture
async def key(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, str]:
    return bearer(await new_key(client, admin))


async def contact_id(client: httpx.AsyncClient, key: dict[str, str], user: str) -> str:
    listed = await client.get(CONTACTS, headers=key, params={"q": user})
    assert listed.status_code == 200, listed.text
    matches = [c for c in listed.json()["contacts"] if c["external_id"] == user]
    assert len(matches) == 1, listed.json()
    return str(matches[0]["id"])


async def put_attributes(
    client: httpx.AsyncClient, key: dict[str, str], cid: str, body: object
) -> httpx.Response:
    return await client.put(f"{CONTACTS}/{cid}/attributes", headers=key, json=body)


def order(event_id: str, user: str, amount: str, at: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "order",
        "occurred_at": at,
        "channel": "hook",
        "external_id": user,
        "amount": amount,
    }


async def test_attributes_are_set_typed_and_cleared(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    await say(client, "zoe", "你好", "m1")
    cid = await contact_id(client, key, "zoe")
    response = await put_attributes(
        client,
        key,
        cid,
        {
            "vip_level": 2.5,
            "birthday": "1990-05-01",
            "wholesale": True,
            "favourite_tea": "龙井",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "contact_id": cid,
        "attributes": {
            "birthday": "1990-05-01",
            "favourite_tea": "龙井",
            "vip_level": "2.5",
            "wholesale": True,
        },
    }
    exact = await put_attributes(
        client, key, cid, {"vip_level": "123456789.123456", "favourite_tea": None}
    )
    assert exact.status_code == 200, exact.text
    read = await client.get(f"{CONTACTS}/{cid}/attributes", headers=key)
    assert read.json()["attributes"] == {
        "birthday": "1990-05-01",
        "vip_level": "123456789.123456",
        "wholesale": True,
    }


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"vip_level": "high"}, ["vip_level"]),
        ({"vip_level": True}, ["vip_level"]),
        ({"vip_level": 1.0000001}, ["vip_level"]),  # more than 6 places
        ({"birthday": "1990-02-30"}, ["birthday"]),
        ({"birthday": 19900501}, ["birthday"]),
        ({"wholesale": "yes"}, ["wholesale"]),
        ({"favourite_tea": 7}, ["favourite_tea"]),
        ({"shoe_size": 42}, ["shoe_size"]),
        ({"vip_level": 1, "shoe_size": 42, "wholesale": 1}, ["shoe_size", "wholesale"]),
    ],
)
async def test_a_bad_value_is_422_and_nothing_is_applied(
    client: httpx.AsyncClient,
    key: dict[str, str],
    container: Container,
    body: dict[str, object],
    fields: list[str],
) -> None:
    await say(client, "zoe", "你好", "m1")
    cid = await contact_id(client, key, "zoe")
    before = await put_attributes(client, key, cid, {"vip_level": 7})
    assert before.status_code == 200, before.text
    response = await put_attributes(client, key, cid, body)
    message = error_of(response, 422, "invalid_attributes")
    assert [p["field"] for p in response.json()["error"]["problems"]] == fields
    for field in fields:
        assert field in message
    async with container.store.engine.connect() as conn:
        rows = (await conn.execute(select(contact_attributes.c.name))).all()
    assert [r.name for r in rows] == ["vip_level"], "nothing of the bad request was applied"
    read = await client.get(f"{CONTACTS}/{cid}/attributes", headers=key)
    assert read.json()["attributes"] == {"vip_level": "7"}


async def test_a_body_that_is_not_an_object_is_refused(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    await say(client, "zoe", "你好", "m1")
    cid = await contact_id(client, key, "zoe")
    error_of(await put_attributes(client, key, cid, ["vip_level"]), 400, "invalid_attributes")
    error_of(await put_attributes(client, key, cid, {}), 400, "invalid_attributes")
    bad_json = await client.put(
        f"{CONTACTS}/{cid}/attributes",
        headers={**key, "Content-Type": "application/json"},
        content=b"{nope",
    )
    error_of(bad_json, 400, "invalid_json")


async def test_another_tenants_contact_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], key: dict[str, str]
) -> None:
    await say(client, "zoe", "你好", "m1")
    cid = await contact_id(client, key, "zoe")
    made = await client.post(
        "/api/v1/tenants", headers=admin, json={"slug": "other", "name": "O", "industry": "retail"}
    )
    assert made.status_code == 201, made.text
    other = f"/api/v1/tenants/other/contacts/{cid}"
    # The admin reaches every tenant, yet the teashop's contact is not the other's.
    for response in (
        await client.get(f"{other}/attributes", headers=admin),
        await client.put(f"{other}/attributes", headers=admin, json={"vip_level": 1}),
        await client.get(f"{other}/timeline", headers=admin),
    ):
        error_of(response, 404, "unknown_contact")
    error_of(await client.get(f"{CONTACTS}/nobody/timeline", headers=key), 404, "unknown_contact")
    listed = await client.get("/api/v1/tenants/other/contacts", headers=admin)
    assert listed.json() == {"contacts": [], "next_cursor": None}


async def test_the_list_filters_sorts_and_pages(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    for n, user in enumerate(["amy", "bob", "cai", "dan"]):
        await say(client, user, "你好", f"m{n}")
    events = {
        "events": [
            order("o1", "amy", "128.00", "2026-11-20T10:00:00+08:00"),
            order("o2", "amy", "30.50", "2026-11-21T10:00:00+08:00"),
            order("o3", "bob", "19.99", "2026-11-22T10:00:00+08:00"),
        ]
    }
    posted = await client.post(f"/api/v1/tenants/{TENANT}/events", headers=key, json=events)
    assert posted.status_code == 200, posted.text
    for user in ("amy", "cai"):
        tagged = await client.put(f"{CONTACTS}/hook/{user}/tags/vip", headers=key)
        assert tagged.status_code < 300, tagged.text
    ids = {u: await contact_id(client, key, u) for u in ("amy", "bob", "cai", "dan")}
    await put_attributes(client, key, ids["amy"], {"vip_level": 3})
    await put_attributes(client, key, ids["cai"], {"vip_level": 10})

    async def names(**params: Any) -> list[str]:
        response = await client.get(CONTACTS, headers=key, params=params)
        assert response.status_code == 200, response.text
        return [c["external_id"] for c in response.json()["contacts"]]

    assert await names(tag="vip", sort="name") == ["amy", "cai"]
    assert await names(attr="vip_level:gt:3") == ["cai"]
    assert await names(min_orders=1, sort="revenue") == ["amy", "bob"]
    assert await names(min_revenue="20", channel="hook") == ["amy"]
    assert await names(tag="vip", attr="vip_level:lte:3", min_orders=2) == ["amy"]
    assert await names(q="nobody") == []
    assert sorted(await names(active_within_days=30)) == ["amy", "bob", "cai", "dan"]

    amy = (await client.get(CONTACTS, headers=key, params={"q": "amy"})).json()["contacts"][0]
    assert amy["orders"] == 2
    assert amy["revenue"] == "158.50"
    assert amy["tags"] == ["vip"]
    assert amy["channel"] == "hook"
    assert amy["source"] == "message"
    assert amy["last_active"] is not None

    walked: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"sort": "name", "limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(CONTACTS, headers=key, params=params)).json()
        walked += [c["external_id"] for c in page["contacts"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == ["amy", "bob", "cai", "dan"]


@pytest.mark.parametrize(
    ("params", "status", "code", "named"),
    [
        ({"attr": "shoe_size:eq:42"}, 422, "invalid_filter", "attr[0]"),
        ({"attr": "vip_level:like:3"}, 422, "invalid_filter", "attr[0]"),
        ({"attr": "vip_level:gt:high"}, 422, "invalid_filter", "vip_level"),
        ({"attr": "wholesale:gt:true"}, 422, "invalid_filter", "attr[0]"),
        ({"sort": "age"}, 422, "invalid_filter", "sort"),
        ({"limit": 0}, 422, "invalid_filter", "limit"),
        ({"limit": "many"}, 400, "invalid_request", "limit"),
        ({"min_revenue": "1.234"}, 422, "invalid_filter", "min_revenue"),
        ({"min_revenue": "-1"}, 422, "invalid_filter", "min_revenue"),
        ({"active_within_days": 0}, 422, "invalid_filter", "active_within_days"),
        ({"cursor": "not-a-cursor"}, 422, "invalid_filter", "cursor"),
    ],
)
async def test_a_bad_filter_names_the_parameter(
    client: httpx.AsyncClient,
    key: dict[str, str],
    params: dict[str, Any],
    status: int,
    code: str,
    named: str,
) -> None:
    message = error_of(await client.get(CONTACTS, headers=key, params=params), status, code)
    assert named in message


async def test_a_cursor_of_another_sort_is_refused(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    for n, user in enumerate(["amy", "bob"]):
        await say(client, user, "你好", f"m{n}")
    page = (await client.get(CONTACTS, headers=key, params={"sort": "name", "limit": 1})).json()
    assert page["next_cursor"]
    response = await client.get(
        CONTACTS, headers=key, params={"sort": "orders", "cursor": page["next_cursor"]}
    )
    assert "made for sort name" in error_of(response, 422, "invalid_filter")


async def test_the_timeline_merges_messages_consents_events_and_pages(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    await say(client, "zoe", "你好", "m1")
    contact = f"{CONTACTS}/hook/zoe"
    consent = {"topic": "new-tea", "wording": "新茶上市时通知我"}
    granted = await client.post(f"{contact}/consents", headers=key, json=consent)
    assert granted.status_code == 201, granted.text
    withdrawn = await client.delete(f"{contact}/consents/new-tea", headers=key)
    assert withdrawn.status_code == 200, withdrawn.text
    events = {"events": [order("o1", "zoe", "88.00", "2026-11-20T10:00:00+08:00")]}
    posted = await client.post(f"/api/v1/tenants/{TENANT}/events", headers=key, json=events)
    assert posted.status_code == 200, posted.text
    cid = await contact_id(client, key, "zoe")

    response = await client.get(f"{CONTACTS}/{cid}/timeline", headers=key)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    kinds = [i["kind"] for i in items]
    assert {"message_in", "message_out", "consent_granted", "consent_withdrawn", "event"} <= set(
        kinds
    )
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)
    said = next(i for i in items if i["kind"] == "message_in")
    assert said["text"] == "你好"
    grant = next(i for i in items if i["kind"] == "consent_granted")
    assert (grant["topic"], grant["wording"]) == ("new-tea", "新茶上市时通知我")
    assert grant["source"].startswith("api:")
    bought = next(i for i in items if i["kind"] == "event")
    assert (bought["id"], bought["type"], bought["amount"]) == ("o1", "order", "88.00")
    assert kinds[-1] == "event", "the order (2026-11-20) is older than everything else"

    walked: list[str] = []
    cursor = None
    for _ in range(len(items) + 1):
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"{CONTACTS}/{cid}/timeline", headers=key, params=params)).json()
        walked += [i["id"] + i["kind"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == [i["id"] + i["kind"] for i in items]
    bad = await client.get(f"{CONTACTS}/{cid}/timeline", headers=key, params={"cursor": "x"})
    assert "cursor" in error_of(bad, 422, "invalid_filter")


async def test_export_and_erasure_cover_attributes_and_events(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    await say(client, "zoe", "你好", "m1")
    cid = await contact_id(client, key, "zoe")
    await put_attributes(client, key, cid, {"vip_level": "1.25", "birthday": "2000-01-01"})
    events = {"events": [order("o1", "zoe", "88.00", "2026-11-20T10:00:00+08:00")]}
    assert (
        await client.post(f"/api/v1/tenants/{TENANT}/events", headers=key, json=events)
    ).status_code == 200
    exported = (await client.get(f"{CONTACTS}/hook/zoe/export", headers=key)).json()
    assert [(a["name"], a["type"], a["value"]) for a in exported["attributes"]] == [
        ("birthday", "date", "2000-01-01"),
        ("vip_level", "number", "1.25"),
    ]
    assert [e["event_id"] for e in exported["business_events"]] == ["o1"]
    erased = await client.delete(f"{CONTACTS}/hook/zoe", headers=key)
    assert erased.status_code == 200, erased.text
    counts = erased.json()["counts"]
    assert (counts["attributes"], counts["events"], counts["contacts"]) == (2, 1, 1)
    error_of(await client.get(f"{CONTACTS}/{cid}/attributes", headers=key), 404, "unknown_contact")
