"""Human handoff over /api/v1: agents, the inbox, the guard on agent replies, the rating.

Through HTTP (in-process ASGI) on SQLite and PostgreSQL; contacts write to
the demo's webhook channel, and ask for a person with the dialogue's
handoff words.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tests.support.api import HOOK_SECRET, TENANT, bearer, error_of, new_key
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container
from kindbot.channels.webhook import SIGNATURE_HEADER, sign
from kindbot.web.app import build_app

AGENTS = f"/api/v1/tenants/{TENANT}/agents"
INBOX = f"/api/v1/tenants/{TENANT}/inbox"


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
def admin(container: Container) -> dict[str, str]:
    return bearer(container.admin_token)


async def say(client: httpx.AsyncClient, user: str, text: str, msg_id: str) -> list[str]:
    """A webhook message from ``user``; the texts of the replies that came back at once."""
    body = json.dumps({"user": user, "text": text, "id": msg_id}).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(HOOK_SECRET, body)}
    response = await client.post(f"/channels/{TENANT}.hook/callback", content=body, headers=headers)
    assert response.status_code == 200, response.text
    return [r["text"] for r in response.json()["replies"]]


async def agent(client: httpx.AsyncClient, auth: dict[str, str], name: str) -> dict[str, Any]:
    response = await client.post(AGENTS, headers=auth, json={"name": name})
    assert response.status_code == 201, response.text
    return dict(response.json())


def as_agent(auth: dict[str, str], who: dict[str, Any]) -> dict[str, str]:
    return {**auth, "X-Kindbot-Agent": who["id"]}


async def waiting_one(client: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, Any]:
    listed = (await client.get(INBOX, headers=auth)).json()["conversations"]
    assert len(listed) == 1, listed
    return dict(listed[0])


async def test_handoff_claim_reply_resolve_and_rating(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    ann = await agent(client, key, "ann")
    assert await say(client, "zoe", "人工", "m1")  # the bot says it hands over
    waiting = await waiting_one(client, key)
    assert waiting["state"] == "waiting"
    assert waiting["agent_id"] is None
    cid = waiting["conversation_id"]

    # Nobody online: the bot goes on answering knowledge questions while a person is awaited.
    assert await say(client, "zoe", "运费怎么算", "m2")
    claimed = await client.post(f"{INBOX}/{cid}/claim", headers=as_agent(key, ann))
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["state"] == "human"
    assert claimed.json()["agent_id"] == ann["id"]
    again = await client.post(f"{INBOX}/{cid}/claim", headers=as_agent(key, ann))
    error_of(again, 409, "invalid_transition")

    assert await say(client, "zoe", "营业时间？", "m3") == []  # nor while a person has it
    sent = await client.post(
        f"{INBOX}/{cid}/reply", headers=as_agent(key, ann), json={"text": "您好，我是安。"}
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["verdict"]["decision"] == "allow"

    read = (await client.get(f"{INBOX}/{cid}", headers=key)).json()
    texts = [(m["direction"], m["text"]) for m in read["messages"]]
    assert ("inbound", "营业时间？") in texts
    assert texts[-1] == ("outbound", "您好，我是安。")

    resolved = await client.post(f"{INBOX}/{cid}/resolve", headers=as_agent(key, ann))
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["state"] == "resolved"
    read = (await client.get(f"{INBOX}/{cid}", headers=key)).json()
    assert "满意" in read["messages"][-1]["text"]

    assert await say(client, "zoe", "5", "m4") == []  # the rating, not a question
    rated = (await client.get(f"{INBOX}?state=resolved", headers=key)).json()["conversations"]
    assert rated[0]["rating"] == 5
    assert await say(client, "zoe", "人工", "m5")  # a new conversation, with the bot again
    assert (await waiting_one(client, key))["conversation_id"] != cid

    audit = (await client.get(f"/api/v1/tenants/{TENANT}/audit/export", headers=key)).text
    handoffs = [json.loads(line) for line in audit.splitlines() if '"handoff"' in line]
    assert [e["decision"] for e in handoffs][:3] == ["request", "claim", "resolve"]
    assert "as agent:ann" in json.dumps(handoffs[1], ensure_ascii=False)


async def test_round_robin_assigns_the_least_recently_assigned_online_agent(
    client: httpx.AsyncClient, admin: dict[str, str], clock: FakeClock
) -> None:
    ann = await agent(client, admin, "ann")
    clock.current += timedelta(seconds=1)
    bob = await agent(client, admin, "bob")
    await agent(client, admin, "cat")  # offline: never assigned
    for who in ("ann", "bob"):
        response = await client.post(f"{AGENTS}/{who}/online", headers=admin)
        assert response.json()["online"] is True
    for n, user in enumerate(("u1", "u2", "u3")):
        clock.current += timedelta(seconds=1)
        await say(client, user, "人工", f"r{n}")
    listed = (await client.get(f"{INBOX}?state=human", headers=admin)).json()["conversations"]
    assert [c["agent_id"] for c in listed] == [ann["id"], bob["id"], ann["id"]]
    mine = (await client.get(f"{INBOX}?agent=bob", headers=admin)).json()["conversations"]
    assert [c["external_id"] for c in mine] == ["u2"]

    cid = listed[1]["conversation_id"]
    stolen = await client.post(
        f"{INBOX}/{cid}/reply", headers=as_agent(admin, ann), json={"text": "hi"}
    )
    error_of(stolen, 403, "not_assigned")
    moved = await client.post(
        f"{INBOX}/{cid}/transfer", headers=as_agent(admin, bob), json={"agent": "ann"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["agent_id"] == ann["id"]


async def test_conversations_left_waiting_go_to_agents_as_they_come_online(
    client: httpx.AsyncClient, admin: dict[str, str], clock: FakeClock
) -> None:
    ann = await agent(client, admin, "ann")
    clock.current += timedelta(seconds=1)
    bob = await agent(client, admin, "bob")
    for n, user in enumerate(("u1", "u2", "u3")):  # nobody online: they wait
        clock.current += timedelta(seconds=1)
        await say(client, user, "人工", f"w{n}")
    waiting = (await client.get(f"{INBOX}?state=waiting", headers=admin)).json()
    assert [c["agent_id"] for c in waiting["conversations"]] == [None, None, None]

    await client.post(f"{AGENTS}/ann/online", headers=admin)  # takes all three
    await client.post(f"{AGENTS}/bob/online", headers=admin)  # nothing left to take
    listed = (await client.get(f"{INBOX}?state=human", headers=admin)).json()["conversations"]
    assert [(c["external_id"], c["agent_id"]) for c in listed] == [
        ("u1", ann["id"]),
        ("u2", ann["id"]),
        ("u3", ann["id"]),
    ]
    clock.current += timedelta(seconds=1)
    await say(client, "u4", "人工", "w3")  # now both are online: round-robin picks bob
    mine = (await client.get(f"{INBOX}?agent=bob", headers=admin)).json()["conversations"]
    assert [(c["external_id"], c["agent_id"]) for c in mine] == [("u4", bob["id"])]


async def test_an_agent_reply_is_refused_by_the_guard(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ann = await agent(client, admin, "ann")
    await say(client, "zoe", "人工", "m1")
    cid = (await waiting_one(client, admin))["conversation_id"]
    await client.post(f"{INBOX}/{cid}/claim", headers=as_agent(admin, ann))
    suspended = await client.post(
        f"/api/v1/tenants/{TENANT}/suspend", headers=admin, json={"reason": "test"}
    )
    assert suspended.status_code == 200, suspended.text

    refused = await client.post(
        f"{INBOX}/{cid}/reply", headers=as_agent(admin, ann), json={"text": "您好"}
    )
    error_of_verdict = refused.json()
    assert refused.status_code == 403, refused.text
    assert error_of_verdict["error"]["code"] == "guard_denied"
    assert error_of_verdict["verdict"]["decision"] == "deny"
    read = (await client.get(f"{INBOX}/{cid}", headers=admin)).json()
    assert "您好" not in [m["text"] for m in read["messages"]]


async def test_agents_are_the_tenants_own(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    ann = await agent(client, admin, "ann")
    error_of(await client.post(AGENTS, headers=admin, json={"name": "ann"}), 409, "agent_exists")
    await say(client, "zoe", "人工", "m1")
    cid = (await waiting_one(client, admin))["conversation_id"]
    nobody = {**admin, "X-Kindbot-Agent": "no-such-agent"}
    error_of(await client.post(f"{INBOX}/{cid}/claim", headers=nobody), 404, "unknown_agent")
    error_of(await client.post(f"{INBOX}/{cid}/claim", headers=admin), 400, "missing_agent")
    error_of(
        await client.post(f"{INBOX}/nope/claim", headers=as_agent(admin, ann)),
        404,
        "unknown_conversation",
    )
    listed = (await client.get(AGENTS, headers=admin)).json()["agents"]
    assert [a["name"] for a in listed] == ["ann"]
