"""Moderation over /api/v1: platform and tenant terms, and screening a text (SQLite, PostgreSQL)."""

from __future__ import annotations

import httpx
from tests.support.api import bearer, error_of, new_key

TENANT_TERMS = "/api/v1/tenants/teashop/moderation/terms"
SCREEN = "/api/v1/tenants/teashop/moderation/screen"


async def test_a_tenant_term_blocks_the_tenants_outbound_text(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    text = {"text": "本店特价：特供茶半价", "direction": "outbound"}
    assert (await client.post(SCREEN, headers=key, json=text)).json()["verdict"] == "ok"

    added = await client.post(
        TENANT_TERMS, headers=key, json={"term": "特供茶", "action": "deny", "category": "fraud"}
    )
    assert added.status_code == 201, added.text
    again = await client.post(
        TENANT_TERMS, headers=key, json={"term": "特供茶", "action": "deny", "category": "fraud"}
    )
    assert again.status_code == 200

    screened = (await client.post(SCREEN, headers=key, json=text)).json()
    assert screened["verdict"] == "block"
    assert screened["matches"][0]["term"] == "特供茶"
    assert [t["term"] for t in (await client.get(TENANT_TERMS, headers=key)).json()["terms"]] == [
        "特供茶"
    ]
    removed = await client.delete(f"{TENANT_TERMS}/特供茶", headers=key)
    assert removed.status_code == 204
    error_of(await client.delete(f"{TENANT_TERMS}/特供茶", headers=key), 404, "unknown_term")


async def test_a_tenant_cannot_allow_a_platform_block_term(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    refused = await client.post(TENANT_TERMS, headers=key, json={"term": "赌场", "action": "allow"})
    error_of(refused, 400, "invalid_term")
    missing = await client.post(TENANT_TERMS, headers=key, json={"term": "x1", "action": "deny"})
    error_of(missing, 400, "invalid_term")


async def test_the_platform_lexicon_is_the_admins(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    error_of(await client.get("/api/v1/moderation/terms", headers=key), 403, "admin_only")
    added = await client.post(
        "/api/v1/moderation/terms",
        headers=admin,
        json={"term": "秘制减肥丸", "action": "deny", "category": "drugs"},
    )
    assert added.status_code == 201, added.text
    assert added.json()["created_by"] == "admin"
    screened = await client.post(
        SCREEN, headers=key, json={"text": "秘制减肥丸到货", "direction": "outbound"}
    )
    assert screened.json()["verdict"] == "block"
