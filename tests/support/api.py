"""Helpers for tests of the REST API: keys, bearer headers, error shapes, webhook messages."""

from __future__ import annotations

import json

import httpx

from kindbot.channels.webhook import SIGNATURE_HEADER, sign

HOOK_SECRET = "demo-webhook-secret-change-me"
TENANT = "teashop"


async def new_key(client: httpx.AsyncClient, admin: dict[str, str], slug: str = TENANT) -> str:
    response = await client.post(f"/api/v1/tenants/{slug}/api-keys", headers=admin, json={})
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_of(response: httpx.Response, status: int, code: str) -> str:
    """The error message, after checking the status and the uniform error shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body
    return str(body["error"]["message"])


async def say(client: httpx.AsyncClient, user: str, text: str, msg_id: str) -> None:
    """A webhook message from ``user`` (creates the contact, a conversation and replies)."""
    body = json.dumps({"user": user, "text": text, "id": msg_id}).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(HOOK_SECRET, body)}
    response = await client.post(f"/channels/{TENANT}.hook/callback", content=body, headers=headers)
    assert response.status_code == 200, response.text
