"""The agents' inbox in the dashboard: lists, claim, reply through the guard, notes, resolve."""

from __future__ import annotations

import re

import httpx
from tests.e2e.test_dashboard_accounts import _csrf_of, _member, _sign_in
from tests.support.api import say

from kindbot.bootstrap import Container
from kindbot.bundles.tenants import TenantAction, change_status
from kindbot.core.records.accounts import Role

INBOX = "/dashboard/teashop/inbox"


async def _waiting(client: httpx.AsyncClient) -> str:
    page = await client.get(INBOX, params={"view": "waiting"})
    found = re.search(r"[?&]c=([0-9a-f]{32})", page.text)
    assert found, "a waiting conversation is listed"
    return found.group(1)


async def test_an_agent_claims_replies_notes_and_resolves(
    container: Container, client: httpx.AsyncClient
) -> None:
    await say(client, "zoe", "人工", "m1")
    await _member(container, "agent@teashop.cn", Role.AGENT)
    await _sign_in(client, "agent@teashop.cn")
    page = await client.get(INBOX, headers={"accept-language": "en"})
    assert "Nobody is online" in page.text
    cid = await _waiting(client)
    csrf = _csrf_of(page)

    claimed = await client.post(f"{INBOX}/{cid}/claim", data={"csrf": csrf})
    assert claimed.status_code == 303
    online = await client.post(f"{INBOX}/presence", data={"online": "true", "csrf": csrf})
    assert online.status_code == 303
    assert (
        "Nobody is online" not in (await client.get(INBOX, headers={"accept-language": "en"})).text
    )

    mine = await client.get(INBOX, params={"view": "mine", "c": cid})
    assert f"c={cid}" in mine.text
    assert 'name="text"' in mine.text

    sent = await client.post(
        f"{INBOX}/{cid}/reply", data={"text": "您好，我是客服小林。", "csrf": csrf}
    )
    assert sent.status_code == 303
    noted = await client.post(
        f"{INBOX}/{cid}/note", data={"text": "老客户，上次投诉过物流。", "csrf": csrf}
    )
    assert noted.status_code == 303
    thread = await client.get(f"{INBOX}/thread", params={"c": cid})
    assert "您好，我是客服小林。" in thread.text
    assert "老客户，上次投诉过物流。" in thread.text
    assert "agent@teashop.cn" in thread.text
    async with container.store.transaction(readonly=True) as tx:
        conversation = await tx.conversations.get(cid)
    assert conversation is not None
    assert conversation.state.value == "human"

    resolved = await client.post(f"{INBOX}/{cid}/resolve", data={"csrf": csrf})
    assert resolved.status_code == 303
    async with container.store.transaction(readonly=True) as tx:
        after = await tx.conversations.get(cid)
    assert after is not None
    assert after.state.value == "resolved"


async def test_a_refused_reply_shows_the_guard_reason_and_keeps_the_draft(
    container: Container, client: httpx.AsyncClient
) -> None:
    await say(client, "zoe", "人工", "m1")
    await _member(container, "agent@teashop.cn", Role.AGENT)
    await _sign_in(client, "agent@teashop.cn")
    cid = await _waiting(client)
    csrf = _csrf_of(await client.get(INBOX))
    await client.post(f"{INBOX}/{cid}/claim", data={"csrf": csrf})
    await change_status(
        container.store,
        "teashop",
        TenantAction.SUSPEND,
        reason="test",
        actor="t",
        now=container.clock.now(),
    )
    refused = await client.post(
        f"{INBOX}/{cid}/reply",
        data={"text": "您好，在的。", "csrf": csrf},
        headers={"accept-language": "en"},
    )
    assert refused.status_code == 422
    assert "The guard did not send this reply" in refused.text
    assert "tenant_status" in refused.text
    assert "suspended" in refused.text
    assert ">您好，在的。</textarea>" in refused.text
    thread = await client.get(f"{INBOX}/thread", params={"c": cid})
    assert "您好，在的。" not in thread.text


async def test_viewers_read_the_inbox_but_do_not_act(
    container: Container, client: httpx.AsyncClient
) -> None:
    await say(client, "zoe", "人工", "m1")
    await _member(container, "viewer@teashop.cn", Role.VIEWER)
    await _sign_in(client, "viewer@teashop.cn")
    cid = await _waiting(client)
    page = await client.get(INBOX, params={"c": cid})
    assert page.status_code == 200
    assert f"/inbox/{cid}/claim" not in page.text
    refused = await client.post(f"{INBOX}/{cid}/claim", data={"csrf": _csrf_of(page)})
    assert refused.status_code == 403
    async with container.store.transaction(readonly=True) as tx:
        conversation = await tx.conversations.get(cid)
    assert conversation is not None
    assert conversation.state.value == "waiting"


async def test_another_shops_conversation_is_not_found(
    container: Container, client: httpx.AsyncClient
) -> None:
    await _member(container, "agent@teashop.cn", Role.AGENT)
    await _sign_in(client, "agent@teashop.cn")
    csrf = _csrf_of(await client.get(INBOX))
    assert (await client.get(INBOX, params={"c": "0" * 32})).status_code == 404
    assert (await client.post(f"{INBOX}/{'0' * 32}/claim", data={"csrf": csrf})).status_code == 404
    assert (
        await client.post(f"{INBOX}/{'0' * 32}/note", data={"text": "x", "csrf": csrf})
    ).status_code == 404


async def test_the_customers_orders_and_consents_are_beside_the_chat(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await say(client, "zoe", "人工", "m1")
    order = {
        "event_id": "o1",
        "type": "order",
        "occurred_at": "2026-11-24T10:00:00+08:00",
        "channel": "hook",
        "external_id": "zoe",
        "amount": "66.00",
    }
    events = await client.post(
        "/api/v1/tenants/teashop/events", headers=admin, json={"events": [order]}
    )
    assert events.status_code == 200, events.text
    await _member(container, "viewer@teashop.cn", Role.VIEWER)
    await _sign_in(client, "viewer@teashop.cn")
    conversation = await _waiting(client)

    page = await client.get(INBOX, params={"c": conversation}, headers={"accept-language": "en"})

    assert "The customer so far" in page.text
    assert "Business event" in page.text
    assert "<code>order</code>" in page.text
    assert re.search(r'href="/dashboard/teashop/contacts/[0-9a-f]{32}"', page.text)
