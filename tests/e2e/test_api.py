"""The REST API under /api/v1 over HTTP (in-process ASGI), on every storage backend.

Authentication (admin token, tenant keys), the tenant admin routes, API keys,
test contacts, the audit log, the consent ledger and the contact's data
rights (export, erasure). Every error is checked for the uniform shape
``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.support.api import bearer, error_of, new_key, say
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container
from kindbot.guard.audit import verify_chain
from kindbot.guard.audit_export import entry_from_export
from kindbot.storage.schema import api_keys, audit_entries

TENANT = "teashop"
CONTACT = f"/api/v1/tenants/{TENANT}/contacts/hook"


async def audit_of(container: Container, kind: str) -> list[Any]:
    async with container.store.engine.connect() as conn:
        query = select(audit_entries).where(audit_entries.c.kind == kind)
        return list((await conn.execute(query.order_by(audit_entries.c.seq))).all())


# ---------------------------------------------------------------- auth


async def test_openapi_document_lists_the_api_and_its_bearer_scheme(
    client: httpx.AsyncClient,
) -> None:
    doc = (await client.get("/api/v1/openapi.json")).json()

    assert "/api/v1/tenants" in doc["paths"]
    assert "/api/v1/tenants/{slug}/contacts/{channel}/{external_id}/consents" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic YWRtaW46eA=="}, bearer("nope")],
)
async def test_missing_or_invalid_credentials_are_401(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    error_of(await client.get("/api/v1/tenants", headers=headers), 401, "unauthorized")
    error_of(await client.get(f"/api/v1/tenants/{TENANT}", headers=headers), 401, "unauthorized")


async def test_a_key_shaped_token_that_was_never_issued_is_401(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = await new_key(client, admin)
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")

    error_of(
        await client.get(f"/api/v1/tenants/{TENANT}", headers=bearer(forged)), 401, "unauthorized"
    )


async def test_a_tenant_key_reaches_only_its_tenant_and_no_admin_route(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await client.post(
        "/api/v1/tenants", headers=admin, json={"slug": "other", "name": "O", "industry": "retail"}
    )
    assert created.status_code == 201, created.text
    key = bearer(await new_key(client, admin))

    assert (await client.get(f"/api/v1/tenants/{TENANT}", headers=key)).json()["slug"] == TENANT
    error_of(await client.get("/api/v1/tenants/other", headers=key), 403, "other_tenant")
    error_of(await client.get("/api/v1/tenants/nobody", headers=key), 403, "other_tenant")
    error_of(await client.get("/api/v1/tenants", headers=key), 403, "admin_only")
    error_of(
        await client.post(f"/api/v1/tenants/{TENANT}/api-keys", headers=key, json={}),
        403,
        "admin_only",
    )


async def test_the_admin_gets_404_for_an_unknown_tenant(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    error_of(await client.get("/api/v1/tenants/nobody", headers=admin), 404, "unknown_tenant")


# ---------------------------------------------------------------- tenants


async def test_signup_is_pending_and_the_admin_decides_with_audit(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    body = {"slug": "tea2", "name": "Tea Two", "industry": "retail", "language": "en"}
    created = await client.post("/api/v1/tenants", headers=admin, json=body)
    assert created.status_code == 201
    assert created.json()["status"] == "pending"
    error_of(await client.post("/api/v1/tenants", headers=admin, json=body), 409, "tenant_exists")

    approved = await client.post(
        "/api/v1/tenants/tea2/approve", headers=admin, json={"reason": "documents checked"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["tenant"]["status"] == "active"
    assert approved.json()["previous"] == "pending"
    again = await client.post("/api/v1/tenants/tea2/approve", headers=admin, json={"reason": "x"})
    error_of(again, 409, "invalid_transition")
    suspended = await client.post(
        "/api/v1/tenants/tea2/suspend", headers=admin, json={"reason": "spam"}
    )
    assert suspended.json()["tenant"]["status"] == "suspended"
    reinstated = await client.post(
        "/api/v1/tenants/tea2/reinstate", headers=admin, json={"reason": "appeal upheld"}
    )
    assert reinstated.json()["tenant"]["status"] == "active"

    listed = (await client.get("/api/v1/tenants", headers=admin)).json()
    assert {t["slug"] for t in listed} == {TENANT, "tea2"}
    decisions = [json.loads(r.detail) for r in await audit_of(container, "tenant_status")]
    assert [d["actor"] for d in decisions[-3:]] == ["admin"] * 3


async def test_signup_validation_and_prohibited_industries(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    bad_slug = await client.post(
        "/api/v1/tenants",
        headers=admin,
        json={"slug": "Bad Slug", "name": "x", "industry": "retail"},
    )
    assert "slug" in error_of(bad_slug, 400, "invalid_request")
    unknown_field = await client.post(
        "/api/v1/tenants",
        headers=admin,
        json={"slug": "ok", "name": "x", "industry": "retail", "status": "active"},
    )
    assert "status" in error_of(unknown_field, 400, "invalid_request")
    refused = await client.post(
        "/api/v1/tenants",
        headers=admin,
        json={"slug": "casino", "name": "C", "industry": "gambling"},
    )
    assert "industry" in error_of(refused, 422, "industry_prohibited")

    async with container.store.transaction(readonly=True) as tx:
        assert await tx.tenants.get_by_slug("casino") is None
        refusals = await tx.audit.entries("platform", 0, 10)
    assert [json.loads(e.detail)["slug"] for e in refusals] == ["casino"]


async def test_a_decision_needs_a_reason(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post(f"/api/v1/tenants/{TENANT}/suspend", headers=admin, json={})
    assert "reason" in error_of(response, 400, "invalid_request")


# ---------------------------------------------------------------- api keys


async def test_keys_are_stored_as_hashes_listed_without_secrets_and_revocable(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    created = await client.post(
        f"/api/v1/tenants/{TENANT}/api-keys", headers=admin, json={"label": "crm sync"}
    )
    issued = created.json()
    key = issued["key"]
    assert key.startswith(issued["prefix"] + "_")
    assert (await client.get(f"/api/v1/tenants/{TENANT}", headers=bearer(key))).status_code == 200

    async with container.store.engine.connect() as conn:
        rows = (await conn.execute(select(api_keys))).all()
    assert len(rows) == 1
    assert key not in repr(rows[0])
    listed = (await client.get(f"/api/v1/tenants/{TENANT}/api-keys", headers=admin)).json()
    assert [k["prefix"] for k in listed] == [issued["prefix"]]
    assert all("key" not in k for k in listed)

    revoked = await client.delete(
        f"/api/v1/tenants/{TENANT}/api-keys/{issued['prefix']}", headers=admin
    )
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    error_of(
        await client.get(f"/api/v1/tenants/{TENANT}", headers=bearer(key)), 401, "unauthorized"
    )
    again = await client.delete(f"/api/v1/tenants/{TENANT}/api-keys/{issued['id']}", headers=admin)
    error_of(again, 404, "unknown_api_key")
    assert [r.decision for r in await audit_of(container, "api_key")] == ["create", "revoke"]


# ---------------------------------------------------------------- test contacts


async def test_test_contacts_are_added_by_the_admin_and_listed_for_the_tenant(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = bearer(await new_key(client, admin))
    url = f"/api/v1/tenants/{TENANT}/test-contacts"
    body = {"channel": "web", "external_id": "visitor-7"}

    error_of(await client.post(url, headers=key, json=body), 403, "admin_only")
    added = await client.post(url, headers=admin, json=body)
    assert added.status_code == 201, added.text
    listed = (await client.get(url, headers=key)).json()
    assert [(c["channel"], c["external_id"]) for c in listed] == [("web", "visitor-7")]
    unknown = await client.post(url, headers=admin, json={"channel": "nope", "external_id": "x"})
    error_of(unknown, 404, "unknown_channel")


# ---------------------------------------------------------------- audit


async def test_audit_verify_and_the_exported_lines_verify_the_chain(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await say(client, "u1", "运费怎么算", "m-1")
    key = bearer(await new_key(client, admin))

    verified = (await client.get(f"/api/v1/tenants/{TENANT}/audit/verify", headers=key)).json()
    exported = await client.get(f"/api/v1/tenants/{TENANT}/audit/export", headers=key)

    assert exported.headers["content-type"].startswith("application/x-ndjson")
    entries = [entry_from_export(json.loads(line)) for line in exported.text.splitlines()]
    assert verified == {
        "tenant": TENANT,
        "ok": True,
        "entries": len(entries),
        "broken_seq": None,
        "problem": None,
    }
    assert len(entries) >= 3
    assert verify_chain(entries) is None


# ---------------------------------------------------------------- consents


async def test_consent_grant_is_recorded_with_wording_source_and_audit(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    await say(client, "u1", "你好", "m-1")
    key = await new_key(client, admin)
    url = f"{CONTACT}/u1/consents"
    body = {"topic": "new-teas", "wording": "每月新茶上市时通知我", "source": "signup form"}

    first = await client.post(url, headers=bearer(key), json=body)
    same = await client.post(url, headers=bearer(key), json=body)

    assert first.status_code == 201, first.text
    consent = first.json()["consent"]
    assert consent["status"] == "active"
    assert consent["wording"] == body["wording"]
    assert consent["source"] == f"api:key:{key[:16]} (signup form)"
    assert same.status_code == 200
    assert same.json() == {"consent": consent, "created": False}
    grants = await audit_of(container, "consent")
    assert [g.decision for g in grants] == ["grant"]
    detail = json.loads(grants[0].detail)
    assert detail["topic"] == "new-teas"
    assert detail["actor"] == f"key:{key[:16]}"
    assert body["wording"] not in grants[0].detail, "the audit holds a hash of the wording"


async def test_new_wording_supersedes_and_withdrawal_is_audited(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container, clock: FakeClock
) -> None:
    await say(client, "u1", "你好", "m-1")
    url = f"{CONTACT}/u1/consents"
    for topic, wording in [("news", "v1"), ("news", "v2"), ("offers", "offers please")]:
        clock.advance(timedelta(minutes=1))
        await client.post(url, headers=admin, json={"topic": topic, "wording": wording})

    listed = (await client.get(url, headers=admin)).json()["consents"]
    assert [(c["topic"], c["wording"], c["status"]) for c in listed] == [
        ("news", "v1", "withdrawn"),
        ("news", "v2", "active"),
        ("offers", "offers please", "active"),
    ]
    assert (await client.delete(f"{url}/news", headers=admin)).json() == {"withdrawn": 1}
    assert (await client.delete(f"{url}/news", headers=admin)).json() == {"withdrawn": 0}
    assert (await client.delete(url, headers=admin)).json() == {"withdrawn": 1}
    decisions = [r.decision for r in await audit_of(container, "consent")]
    assert decisions == ["grant", "grant", "grant", "withdraw", "withdraw"]


async def test_a_contacts_own_opt_out_cannot_be_overridden_by_an_operator(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    await say(client, "u1", "你好", "m-1")
    url = f"{CONTACT}/u1/consents"
    body = {"topic": "news", "wording": "每月新茶上市时通知我"}
    assert (await client.post(url, headers=admin, json=body)).status_code == 201
    await say(client, "u1", "退订", "m-2")  # the contact says stop

    refused = await client.post(url, headers=admin, json=body)

    assert "opt in again" in error_of(refused, 409, "contact_opted_out")
    listed = (await client.get(url, headers=admin)).json()["consents"]
    assert [c["status"] for c in listed] == ["withdrawn"]
    assert [g.decision for g in await audit_of(container, "consent")] == ["grant"]

    await say(client, "u1", "订阅", "m-3")  # the contact opts in again, by message
    again = await client.post(url, headers=admin, json=body)
    assert again.status_code == 201, again.text


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"topic": "news", "wording": "   "}, "wording", "missing_wording"),
        ({"topic": "news"}, "wording", "invalid_request"),
        ({"topic": "no spaces", "wording": "ok"}, "topic", "invalid_topic"),
        ({"topic": "news", "wording": "ok", "extra": 1}, "extra", "invalid_request"),
    ],
)
async def test_bad_grants_are_400_naming_the_field_and_change_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    container: Container,
    body: dict[str, Any],
    field: str,
    code: str,
) -> None:
    await say(client, "u1", "你好", "m-1")
    response = await client.post(f"{CONTACT}/u1/consents", headers=admin, json=body)

    assert field in error_of(response, 400, code)
    assert (await client.get(f"{CONTACT}/u1/consents", headers=admin)).json()["consents"] == []
    assert await audit_of(container, "consent") == []


async def test_consents_need_an_existing_contact_on_a_known_channel(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"topic": "news", "wording": "ok"}
    unknown_contact = await client.post(f"{CONTACT}/ghost/consents", headers=admin, json=body)
    error_of(unknown_contact, 404, "unknown_contact")
    unknown_channel = await client.get(
        f"/api/v1/tenants/{TENANT}/contacts/nope/u1/consents", headers=admin
    )
    error_of(unknown_channel, 404, "unknown_channel")


# ---------------------------------------------------------------- data rights


async def test_export_holds_everything_stored_about_the_contact(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    await say(client, "u1", "运费怎么算", "m-1")
    await say(client, "u2", "someone else", "m-2")
    await client.post(
        f"{CONTACT}/u1/consents", headers=admin, json={"topic": "news", "wording": "w"}
    )
    async with container.store.transaction() as tx:
        channel = await tx.channels.get_by_public_id(f"{TENANT}.hook")
        assert channel is not None
        contact = await tx.contacts.find(channel.id, "u1")
        assert contact is not None
        await tx.tags.add(contact.tenant_id, contact.id, "vip")

    doc = (await client.get(f"{CONTACT}/u1/export", headers=admin)).json()

    assert doc["format"] == "kindbot.contact-export/1"
    assert doc["contact"]["external_id"] == "u1"
    assert doc["messages"][0]["text"] == "运费怎么算"
    assert {m["direction"] for m in doc["messages"]} == {"inbound", "outbound"}
    assert len(doc["conversations"]) == 1
    assert [c["topic"] for c in doc["consents"]] == ["news"]
    assert doc["tags"] == ["vip"]
    assert len(doc["outbox"]) == len([m for m in doc["messages"] if m["direction"] == "outbound"])
    kinds = {e["kind"] for e in doc["audit_entries"]}
    assert {"inbound", "outbound", "consent"} <= kinds
    assert "someone else" not in json.dumps(doc, ensure_ascii=False)


async def test_export_holds_the_contacts_business_events_and_agents_notes(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    await say(client, "u1", "人工", "m-1")  # handed to a person
    order = {
        "event_id": "o-1",
        "type": "order",
        "occurred_at": "2026-11-25T10:00:00+08:00",
        "channel": "hook",
        "external_id": "u1",
        "amount": "88.00",
    }
    stored = await client.post(
        f"/api/v1/tenants/{TENANT}/events", headers=admin, json={"events": [order]}
    )
    assert stored.status_code == 200, stored.text
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug(TENANT)
    assert tenant is not None
    waiting = await container.inbox.list(tenant, state=None, agent_id=None)
    await container.inbox.add_note(tenant, waiting[0].conversation_id, "ann@shop.cn", "老客户")

    doc = (await client.get(f"{CONTACT}/u1/export", headers=admin)).json()

    assert [(e["event_id"], e["amount_minor"]) for e in doc["business_events"]] == [("o-1", 8800)]
    assert [(n["author"], n["text"]) for n in doc["conversation_notes"]] == [
        ("ann@shop.cn", "老客户")
    ]


async def test_erasure_removes_the_contact_in_one_go_and_keeps_the_audit_verifiable(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    await say(client, "u1", "我的手机号是13800000000", "m-1")
    await say(client, "u2", "运费怎么算", "m-2")
    await client.post(
        f"{CONTACT}/u1/consents", headers=admin, json={"topic": "news", "wording": "w"}
    )
    key = bearer(await new_key(client, admin))

    erased = await client.delete(f"{CONTACT}/u1", headers=key)

    assert erased.status_code == 200, erased.text
    result = erased.json()
    assert result["erased"] is True
    assert result["counts"]["contacts"] == 1
    assert result["counts"]["consents"] == 1
    assert result["counts"]["messages"] >= 2
    error_of(await client.get(f"{CONTACT}/u1/export", headers=key), 404, "unknown_contact")
    error_of(await client.delete(f"{CONTACT}/u1", headers=key), 404, "unknown_contact")
    assert (await client.get(f"{CONTACT}/u2/export", headers=key)).json()["messages"]
    verified = (await client.get(f"/api/v1/tenants/{TENANT}/audit/verify", headers=key)).json()
    assert verified["ok"] is True
    [entry] = await audit_of(container, "erasure")
    assert entry.subject.startswith("contact:")
    assert "u1" not in entry.detail
    assert json.loads(entry.detail)["counts"] == result["counts"]
    async with container.store.engine.connect() as conn:
        texts = [r.detail for r in await conn.execute(select(audit_entries.c.detail))]
    assert not any("13800000000" in t for t in texts), "no audit entry holds message text"
