"""The contacts pages: search and filters, a contact's timeline, tags, typed attributes,
consents with their wording, export and erasure (shop admins, with confirmation)."""

from __future__ import annotations

import html
import json
import re

import httpx
from tests.e2e.test_dashboard_accounts import _csrf_of, _member, _sign_in
from tests.support.api import TENANT, bearer, new_key, say

from kindbot.bootstrap import Container
from kindbot.core.records.accounts import Role

PAGE = f"/dashboard/{TENANT}/contacts"


def _text(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"\s+", " ", page.text)))


async def _shop(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, str]:
    key = bearer(await new_key(client, admin))
    await say(client, "zoe", "你好，有龙井吗", "m1")
    await say(client, "amy", "hello", "m2")
    consent = {"topic": "new-tea", "wording": "新茶上市时通知我", "source": "signup form"}
    granted = await client.post(
        f"/api/v1/tenants/{TENANT}/contacts/hook/zoe/consents", headers=key, json=consent
    )
    assert granted.status_code == 201, granted.text
    order = {
        "event_id": "o1",
        "type": "order",
        "occurred_at": "2026-11-25T10:00:00+08:00",
        "channel": "hook",
        "external_id": "zoe",
        "amount": "128.00",
    }
    stored = await client.post(
        f"/api/v1/tenants/{TENANT}/events", headers=key, json={"events": [order]}
    )
    assert stored.status_code == 200, stored.text
    listed = await client.get(
        f"/api/v1/tenants/{TENANT}/contacts", headers=key, params={"q": "zoe"}
    )
    return {"zoe": listed.json()["contacts"][0]["id"], **key}


async def _as(container: Container, client: httpx.AsyncClient, role: Role) -> None:
    email = f"{role.value}@teashop.cn"
    await _member(container, email, role)
    await _sign_in(client, email)


async def test_search_filters_and_the_contacts_timeline(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ids = await _shop(client, admin)
    await _as(container, client, Role.VIEWER)

    everyone = await client.get(PAGE, headers={"accept-language": "en"})
    assert everyone.status_code == 200
    assert "zoe" in everyone.text
    assert "amy" in everyone.text
    buyers = await client.get(PAGE, params={"min_orders": "1"})
    assert "zoe" in buyers.text
    assert ">amy<" not in buyers.text
    bad = await client.get(PAGE, params={"attr": "shoe:eq:42"})
    assert bad.status_code == 422
    assert "not a declared attribute" in _text(bad)

    page = await client.get(f"{PAGE}/{ids['zoe']}", headers={"accept-language": "en"})
    assert page.status_code == 200
    text = _text(page)
    assert "你好，有龙井吗" in text  # the message, in the timeline
    assert "Business event" in text
    assert "¥128.00" in text
    assert "新茶上市时通知我" in text  # the consent's wording and source
    assert "signup form" in text
    assert "Erase the contact" not in text  # viewers neither erase nor export
    assert (await client.get(f"{PAGE}/{ids['zoe']}/export.json")).status_code == 403
    assert (await client.get(f"{PAGE}/{'0' * 32}")).status_code == 404


async def test_an_agent_tags_and_sets_typed_attributes_all_or_nothing(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ids = await _shop(client, admin)
    await _as(container, client, Role.AGENT)
    contact = f"{PAGE}/{ids['zoe']}"
    csrf = _csrf_of(await client.get(contact))

    tagged = await client.post(f"{contact}/tags", data={"csrf": csrf, "tag": "vip"})
    assert tagged.status_code == 303
    assert "vip" in (await client.get(PAGE, params={"tag": "vip"})).text

    wrong = await client.post(
        f"{contact}/attributes",
        data={"csrf": csrf, "attr.vip_level": "gold", "attr.favourite_tea": "龙井"},
        headers={"accept-language": "en"},
    )
    assert wrong.status_code == 422
    assert 'aria-invalid="true"' in wrong.text
    attributes = await client.get(
        f"/api/v1/tenants/{TENANT}/contacts/{ids['zoe']}/attributes",
        headers={"Authorization": ids["Authorization"]},
    )
    assert attributes.json()["attributes"] == {}  # nothing applied

    saved = await client.post(
        f"{contact}/attributes",
        data={"csrf": csrf, "attr.vip_level": "3", "attr.favourite_tea": "龙井"},
    )
    assert saved.status_code == 200
    found = await client.get(PAGE, params={"attr": "vip_level:gte:3"})
    assert "zoe" in found.text
    forged = await client.post(f"{contact}/tags", data={"csrf": "x", "tag": "spam"})
    assert forged.status_code == 403


async def test_an_admin_exports_and_erases_only_after_confirming(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ids = await _shop(client, admin)
    await _as(container, client, Role.TENANT_ADMIN)
    contact = f"{PAGE}/{ids['zoe']}"
    csrf = _csrf_of(await client.get(contact))

    exported = await client.get(f"{contact}/export.json")
    assert exported.status_code == 200
    document = json.loads(exported.text)
    assert document["contact"]["external_id"] == "zoe"
    assert document["business_events"][0]["event_id"] == "o1"

    unconfirmed = await client.post(f"{contact}/erase", data={"csrf": csrf, "confirm": "amy"})
    assert unconfirmed.status_code == 400
    assert (await client.get(contact)).status_code == 200
    erased = await client.post(f"{contact}/erase", data={"csrf": csrf, "confirm": "zoe"})
    assert erased.status_code == 303
    assert (await client.get(contact)).status_code == 404


async def test_another_shops_member_sees_nothing(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ids = await _shop(client, admin)
    await _member(container, "stranger@else.cn", None)
    await _sign_in(client, "stranger@else.cn")
    assert (await client.get(PAGE)).status_code == 404
    assert (await client.get(f"{PAGE}/{ids['zoe']}")).status_code == 404
