"""The webhook channel and the error contract over HTTP (in-process ASGI)."""

from __future__ import annotations

import json

import httpx
import pytest

from kindbot.bootstrap import Container
from kindbot.channels.webhook import SIGNATURE_HEADER, sign

SECRET = "demo-webhook-secret-change-me"
URL = "/channels/teashop.hook/callback"


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}


async def stored_messages(container: Container) -> int:
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        total = 0
        for channel in await tx.channels.list_for_tenant(tenant.id):
            contact = await tx.contacts.find(channel.id, "u1")
            if contact:
                total += len(await tx.messages.history_for_contact(contact.id, 1000))
        return total


async def test_signed_message_gets_its_reply_in_the_response(client: httpx.AsyncClient) -> None:
    body = json.dumps({"user": "u1", "text": "可以开发票吗", "id": "m-1"}).encode()
    response = await client.post(URL, content=body, headers=signed(body))

    assert response.status_code == 200
    data = response.json()
    assert data["duplicate"] is False
    assert "电子普通发票" in data["replies"][0]["text"]


async def test_retry_with_same_id_returns_the_same_replies(client: httpx.AsyncClient) -> None:
    body = json.dumps({"user": "u1", "text": "运费怎么算", "id": "m-2"}).encode()
    first = (await client.post(URL, content=body, headers=signed(body))).json()
    second = (await client.post(URL, content=body, headers=signed(body))).json()

    assert second["duplicate"] is True
    assert second["message_id"] == first["message_id"]
    assert second["replies"] == first["replies"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b'{"user":"u1","text":"hi"}', {SIGNATURE_HEADER: "00" * 32}, 403, "bad_signature"),
        (b'{"user":"u1","text":"hi"}', {}, 403, "missing_signature"),
        (b'{"user":"u1","text":', None, 400, "invalid_json"),
        (b"\xff\xfe not utf-8", None, 400, "invalid_json"),
        (b'["user", "u1"]', None, 400, "invalid_json"),
        (b'{"text":"hi"}', None, 400, "missing_field"),
        (b'{"user":"u1","text":"  "}', None, 400, "invalid_field"),
        (b'{"user":"u1","text":42}', None, 400, "invalid_field"),
    ],
)
async def test_bad_requests_get_a_code_and_store_nothing(
    client: httpx.AsyncClient,
    container: Container,
    body: bytes,
    headers: dict[str, str] | None,
    status: int,
    code: str,
) -> None:
    response = await client.post(
        URL, content=body, headers=signed(body) if headers is None else headers
    )

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert await stored_messages(container) == 0


async def test_body_over_64_kib_is_refused(client: httpx.AsyncClient, container: Container) -> None:
    body = json.dumps({"user": "u1", "text": "x" * (65 * 1024)}).encode()
    response = await client.post(URL, content=body, headers=signed(body))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert await stored_messages(container) == 0


@pytest.mark.parametrize("channel", ["nobody.hook", "teashop.web"])
async def test_unknown_or_wrong_kind_channel_is_404(
    client: httpx.AsyncClient, channel: str
) -> None:
    body = b'{"user":"u1","text":"hi"}'
    response = await client.post(
        f"/channels/{channel}/callback", content=body, headers=signed(body)
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_channel"


async def test_rejections_are_counted_in_metrics(client: httpx.AsyncClient) -> None:
    await client.post(URL, content=b"{}", headers={SIGNATURE_HEADER: "bad"})
    metrics = (await client.get("/metrics")).text

    assert 'kindbot_rejected_requests_total{code="bad_signature"} 1.0' in metrics


async def test_health_readiness_and_api_document(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert "/channels/{channel_id}/callback" in spec["paths"]


async def test_unknown_route_uses_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        b'{"user":"u1","text":"\\ud800"}',
        b'{"user":"\\udfff","text":"hi"}',
        b'{"user":"u1","text":"hi","name":"a\\ud83d"}',
        b'{"user":"u1","text":"hi","id":"\\ud800x"}',
        b'{"user":"u1","text":"nul \\u0000 here"}',
        b'{"user":"u1","text":"hi","extra":{"\\ud800":1}}',
    ],
)
async def test_text_that_cannot_be_stored_is_a_400(
    client: httpx.AsyncClient, container: Container, body: bytes
) -> None:
    # Issue 13, defect 2: a lone surrogate (valid JSON, not encodable as UTF-8) was a 500.
    response = await client.post(URL, content=body, headers=signed(body))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_text"
    assert await stored_messages(container) == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * 5000 + b"]" * 5000, "json_too_deep"),
        (b'{"user":"u1","text":"hi","n":' + b"9" * 5000 + b"}", "invalid_json"),
    ],
)
async def test_deep_or_absurd_json_is_a_400(
    client: httpx.AsyncClient, body: bytes, code: str
) -> None:
    response = await client.post(URL, content=body, headers=signed(body))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


async def test_message_ids_are_scoped_by_sender(client: httpx.AsyncClient) -> None:
    # Issue 13, defect 5: u2 reusing u1's id got u1's reply and lost its own message.
    first = json.dumps({"user": "u1", "text": "运费怎么算", "id": "same"}).encode()
    second = json.dumps({"user": "u2", "text": "可以开发票吗", "id": "same"}).encode()
    one = (await client.post(URL, content=first, headers=signed(first))).json()
    two = (await client.post(URL, content=second, headers=signed(second))).json()

    assert two["duplicate"] is False
    assert two["message_id"] != one["message_id"]
    assert "电子普通发票" in two["replies"][0]["text"]


async def test_overlong_identifiers_are_refused_not_cut(client: httpx.AsyncClient) -> None:
    body = json.dumps({"user": "u" * 201, "text": "hi"}).encode()
    response = await client.post(URL, content=body, headers=signed(body))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "identifier_too_long"


async def test_longest_ids_keep_their_idempotency(client: httpx.AsyncClient) -> None:
    # Keys longer than the stored column are compared whole (digests), never cut.
    user, msg_id = "u" * 200, "i" * 199
    first = json.dumps({"user": user, "text": "运费怎么算", "id": msg_id + "a"}).encode()
    other = json.dumps({"user": user, "text": "运费怎么算", "id": msg_id + "b"}).encode()
    one = (await client.post(URL, content=first, headers=signed(first))).json()
    two = (await client.post(URL, content=other, headers=signed(other))).json()
    again = (await client.post(URL, content=first, headers=signed(first))).json()

    assert two["duplicate"] is False
    assert again["duplicate"] is True
    assert again["message_id"] == one["message_id"]
