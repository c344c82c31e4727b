"""``/inbox/events`` streams live handoff events as server-sent events (real uvicorn)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from tests.support.api import HOOK_SECRET, TENANT, bearer
from tests.support.live import live_server

from kindbot.bootstrap import Container
from kindbot.channels.webhook import SIGNATURE_HEADER, sign

EVENTS = f"/api/v1/tenants/{TENANT}/inbox/events"
TIMEOUT_S = 20.0


async def say(client: httpx.AsyncClient, user: str, text: str, msg_id: str) -> None:
    body = json.dumps({"user": user, "text": text, "id": msg_id}).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(HOOK_SECRET, body)}
    response = await client.post(f"/channels/{TENANT}.hook/callback", content=body, headers=headers)
    assert response.status_code == 200, response.text


async def read_events(lines: AsyncIterator[str], count: int) -> list[tuple[str, dict[str, Any]]]:
    """The next ``count`` events of an open SSE stream's lines (comments skipped)."""
    found: list[tuple[str, dict[str, Any]]] = []
    kind = ""
    async for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            found.append((kind, json.loads(line.removeprefix("data: "))))
            if len(found) == count:
                return found
    return found


async def test_waiting_and_message_events_stream_live(container: Container) -> None:
    admin = bearer(container.admin_token)
    async with (
        live_server(container) as url,
        httpx.AsyncClient(base_url=url) as client,
        client.stream("GET", EVENTS, headers=admin, timeout=TIMEOUT_S) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        assert await asyncio.wait_for(anext(lines), TIMEOUT_S) == ": connected"
        await say(client, "zoe", "人工", "m1")
        await say(client, "zoe", "还在吗", "m2")
        events = await asyncio.wait_for(read_events(lines, 2), TIMEOUT_S)
    assert [kind for kind, _ in events] == ["waiting", "message"]
    assert events[0][1]["state"] == "waiting"
    assert events[1][1]["text"] == "还在吗"
    assert events[0][1]["conversation_id"] == events[1][1]["conversation_id"]
