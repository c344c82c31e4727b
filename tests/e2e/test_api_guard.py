"""The guard over /api/v1: proactive sends, tags, plans, explanations, broadcasts, standing.

Through HTTP (in-process ASGI) on SQLite and PostgreSQL; contacts come into
being by writing to the demo's webhook channel.
"""

from __future__ import annotations

import asyncio

import httpx
from tests.support.api import bearer, error_of, new_key, say
from tests.support.clock import FakeClock
from tests.support.contacts import outbound_texts

from kindbot.bootstrap import Container
from kindbot.guard.policy import TenantGuardSettings, settings_to_json

TENANT = "teashop"
CONTACTS = f"/api/v1/tenants/{TENANT}/contacts/hook"
GUARD = f"/api/v1/tenants/{TENANT}/guard"
BROADCASTS = f"/api/v1/tenants/{TENANT}/broadcasts"
NEWS = {"topic": "new-tea", "text": "明前龙井上市"}


async def opt_in(client: httpx.AsyncClient, auth: dict[str, str], user: str) -> None:
    response = await client.post(
        f"{CONTACTS}/{user}/consents",
        headers=auth,
        json={"topic": "new-tea", "wording": "新茶上市时通知我"},
    )
    assert response.status_code == 201, response.text


async def test_a_send_is_refused_then_allowed_once_per_day(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    await say(client, "ann", "你好", "m1")

    refused = await client.post(f"{CONTACTS}/ann/messages", headers=key, json=NEWS)
    assert refused.status_code == 403, refused.text
    assert refused.json()["verdict"]["rule"] == "consent"
    assert refused.json()["message_id"] is None

    await opt_in(client, key, "ann")
    sent = await client.post(f"{CONTACTS}/ann/messages", headers=key, json=NEWS)
    again = await client.post(f"{CONTACTS}/ann/messages", headers=key, json=NEWS)
    assert sent.status_code == 201, sent.text
    assert sent.json()["message_id"]
    assert again.status_code == 403
    assert again.json()["verdict"]["rule"] == "frequency"
    standing = (await client.get(f"{GUARD}/standing", headers=key)).json()
    assert standing == {"status": "active", "standing": "ok", "score": 6, "window_days": 7}


async def test_quiet_hours_answer_202_with_the_time(
    client: httpx.AsyncClient, admin: dict[str, str], clock: FakeClock
) -> None:
    await say(client, "ann", "你好", "m1")
    await opt_in(client, admin, "ann")
    clock.current = clock.current.replace(hour=14)  # 22:00 in Shanghai

    deferred = await client.post(f"{CONTACTS}/ann/messages", headers=admin, json=NEWS)

    assert deferred.status_code == 202, deferred.text
    body = deferred.json()
    assert body["deferred_id"]
    assert body["verdict"]["rule"] == "quiet_hours"
    assert body["verdict"]["retry_at"].startswith("2026-11-26T01:00")


async def test_bad_requests_name_the_problem(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await say(client, "ann", "你好", "m1")
    unknown = await client.post(f"{CONTACTS}/nobody/messages", headers=admin, json=NEWS)
    error_of(unknown, 404, "unknown_contact")
    empty = await client.post(
        f"{CONTACTS}/ann/messages", headers=admin, json={"topic": "new-tea", "text": ""}
    )
    assert empty.status_code in (400, 422), empty.text
    other = await client.post(f"{GUARD}/plan", headers={}, json={})
    error_of(other, 401, "unauthorized")


async def test_plan_and_explain(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for i, user in enumerate(("ann", "bob", "cat")):
        await say(client, user, "你好", f"m{i}")
        tagged = await client.put(f"{CONTACTS}/{user}/tags/vip", headers=admin)
        assert tagged.json() == {"tags": ["vip"]}
    await opt_in(client, admin, "ann")

    plan = (await client.post(f"{GUARD}/plan", headers=admin, json={"tag": "vip", **NEWS})).json()
    assert (plan["total"], plan["allowed"], plan["denied"]) == (3, 1, 2)
    refused = next(line for line in plan["lines"] if line["rule"] == "consent")
    assert sorted(refused["samples"]) == ["bob", "cat"]

    explained = await client.post(
        f"{GUARD}/explain",
        headers=admin,
        json={"channel": "hook", "external_id": "bob", "kind": "proactive", "topic": "new-tea"},
    )
    body = explained.json()
    assert body["verdict"]["rule"] == "consent"
    assert {"tenant_status", "window", "consent", "frequency"} <= {
        c["rule"] for c in body["checks"]
    }

    untagged = await client.delete(f"{CONTACTS}/cat/tags/vip", headers=admin)
    assert untagged.json() == {"tags": []}


async def test_a_big_broadcast_needs_a_second_key(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    alice, bob = bearer(await new_key(client, admin)), bearer(await new_key(client, admin))
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug(TENANT)
        assert tenant is not None
        await tx.tenants.set_guard(
            tenant.id, settings_to_json(TenantGuardSettings(human_confirm_over=1))
        )
    for i, user in enumerate(("ann", "bob")):
        await say(client, user, "你好", f"m{i}")
        await client.put(f"{CONTACTS}/{user}/tags/vip", headers=alice)
        await opt_in(client, alice, user)

    created = await client.post(BROADCASTS, headers=alice, json={"tag": "vip", **NEWS})
    assert created.status_code == 201, created.text
    broadcast = created.json()["broadcast"]
    assert broadcast["status"] == "awaiting_approval"
    assert created.json()["plan"]["allowed"] == 2

    same = await client.post(f"{BROADCASTS}/{broadcast['id']}/approve", headers=alice)
    error_of(same, 400, "same_approver")
    approved = await client.post(f"{BROADCASTS}/{broadcast['id']}/approve", headers=bob)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "sent"
    for _ in range(200):  # sending runs as a supervised background job
        if container.supervisor.running == 0:
            break
        await asyncio.sleep(0.02)
    async with container.store.transaction(readonly=True) as tx:
        channel = await tx.channels.get_by_public_id(f"{TENANT}.hook")
        assert channel is not None
        contact = await tx.contacts.find(channel.id, "bob")
    assert contact is not None
    assert any("明前龙井" in text for text in await outbound_texts(container, contact))
    shown = await client.get(f"{BROADCASTS}/{broadcast['id']}", headers=bob)
    assert shown.json()["approved_by"].startswith("key:")
