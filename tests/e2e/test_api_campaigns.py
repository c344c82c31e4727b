"""A campaign with a holdout end to end over /api/v1 (issue 16 §4): plan → a second person
approves → the worker delivers through the guard → orders imported through the events API
→ the report's incremental conversion, exactly; and its CSV.

Through HTTP (in-process ASGI) on SQLite and PostgreSQL; contacts come into
being by writing to the demo's webhook channel. The clock starts
2026-11-25 10:00 UTC (18:00 in Shanghai).
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
from tests.support.api import bearer, error_of, new_key, say
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container
from kindbot.core.records.campaigns import Arm
from kindbot.guard.policy import TenantGuardSettings, settings_to_json

TENANT = "teashop"
CONTACTS = f"/api/v1/tenants/{TENANT}/contacts/hook"
CAMPAIGNS = f"/api/v1/tenants/{TENANT}/campaigns"
TEXT_A, TEXT_B = "明前龙井上市", "雨前龙井到店"
USERS = [f"u{i}" for i in range(10)]


async def setup_audience(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container
) -> None:
    """Ten webhook contacts tagged vip and opted in to new-tea; approval above five."""
    for i, user in enumerate(USERS):
        await say(client, user, "你好", f"hello-{i}")
        tagged = await client.put(f"{CONTACTS}/{user}/tags/vip", headers=auth)
        assert tagged.status_code == 200, tagged.text
        consent = await client.post(
            f"{CONTACTS}/{user}/consents",
            headers=auth,
            json={"topic": "new-tea", "wording": "新茶上市时通知我"},
        )
        assert consent.status_code == 201, consent.text
    async with container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug(TENANT)
        assert tenant is not None
        await tx.tenants.set_guard(
            tenant.id, settings_to_json(TenantGuardSettings(human_confirm_over=5))
        )


async def arms(container: Container, campaign_id: str) -> dict[Arm, list[str]]:
    """The external ids of each arm's contacts, in order."""
    found: dict[Arm, list[str]] = {Arm.TREATMENT: [], Arm.HOLDOUT: []}
    async with container.store.transaction(readonly=True) as tx:
        for row in await tx.campaigns.recipients(campaign_id):
            contact = await tx.contacts.get(row.contact_id)
            assert contact is not None
            found[row.arm].append(contact.external_id)
    return {arm: sorted(users) for arm, users in found.items()}


def order(event_id: str, user: str, at: str, amount: str, kind: str = "order") -> dict[str, str]:
    return {
        "event_id": event_id,
        "type": kind,
        "occurred_at": at,
        "channel": "hook",
        "external_id": user,
        "amount": amount,
        "currency": "CNY",
        "order_id": event_id,
    }


async def test_a_campaign_with_a_holdout_end_to_end(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container, clock: FakeClock
) -> None:
    alice, bob = bearer(await new_key(client, admin)), bearer(await new_key(client, admin))
    await setup_audience(client, alice, container)

    created = await client.post(
        CAMPAIGNS,
        headers=alice,
        json={
            "name": "龙井上新",
            "topic": "new-tea",
            "audience": {"tag": "vip"},
            "variants": [{"name": "A", "text": TEXT_A}, {"name": "B", "text": TEXT_B}],
            "holdout_share": 0.2,
        },
    )
    assert created.status_code == 201, created.text
    campaign = created.json()["campaign"]
    campaign_id = campaign["id"]
    assert (campaign["status"], campaign["recipients"], campaign["holdout"]) == (
        "awaiting_approval",
        10,
        2,
    )
    assert [(p["variant"], p["plan"]["allowed"]) for p in created.json()["plans"]] == [
        ("A", 4),
        ("B", 4),
    ]
    groups = await arms(container, campaign_id)  # recorded before anything is sent
    treatment, holdout = groups[Arm.TREATMENT], groups[Arm.HOLDOUT]
    assert len(treatment) == 8
    assert len(holdout) == 2

    assert (await container.campaign_delivery.run_once()).decided == 0  # not approved yet
    error_of(
        await client.post(f"{CAMPAIGNS}/{campaign_id}/approve", headers=alice), 400, "same_approver"
    )
    approved = await client.post(f"{CAMPAIGNS}/{campaign_id}/approve", headers=bob)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "scheduled"

    tally = await container.campaign_delivery.run_once()  # the worker's pass
    assert (tally.started, tally.sent, tally.finished) == (1, 8, 1)
    while await container.outbox_worker.run_once():
        pass
    shown = (await client.get(f"{CAMPAIGNS}/{campaign_id}", headers=bob)).json()
    assert shown["campaign"]["status"] == "finished"
    assert sorted((c["arm"], c["status"], c["count"]) for c in shown["recipients"]) == [
        ("holdout", "holdout", 2),
        ("treatment", "sent", 8),
    ]

    # Reactions within 48 hours: a reply, and an opt-out (itself an inbound message).
    clock.advance(timedelta(hours=1))
    await say(client, treatment[3], "好的，谢谢", "reply-1")
    await say(client, treatment[4], "退订", "stop-1")
    events = [
        order("o1", treatment[0], "2026-11-26T10:00:00+00:00", "128.00"),
        order("o2", treatment[1], "2026-11-26T12:00:00+00:00", "50.00"),
        order("r2", treatment[1], "2026-11-27T12:00:00+00:00", "10.00", "refund"),
        order("o3", treatment[2], "2026-12-03T10:00:00+00:00", "99.00"),  # after 7 days
        order("o4", holdout[0], "2026-11-24T10:00:00+00:00", "30.00"),  # before the start
        order("o5", holdout[1], "2026-11-26T10:00:00+00:00", "20.00", "refund"),
    ]
    imported = await client.post(
        f"/api/v1/tenants/{TENANT}/events", headers=alice, json={"events": events}
    )
    assert imported.json() == {"accepted": 6, "duplicates": 0}
    clock.advance(timedelta(days=8))

    report = await client.get(f"{CAMPAIGNS}/{campaign_id}/report", headers=bob)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["treatment"] == {
        "size": 8,
        "sent": 8,
        "deferred": 0,
        "denied": 0,
        "skipped": 0,
        "delivered": 0,  # the demo webhook has no outgoing_url: its deliveries fail
        "conversions": 2,
        "conversion_rate": 0.25,
        "revenue": "168.00",  # 128.00 + 50.00 - 10.00
        "revenue_per_recipient": "21.00",
        "replies": 2,
        "opt_outs": 1,
        "opt_out_rate": 0.125,
        "complaints": 0,
        "complaint_rate": 0.0,
    }
    assert body["holdout"] | {"delivered": 0} == {
        "size": 2,
        "sent": 0,
        "deferred": 0,
        "denied": 0,
        "skipped": 0,
        "delivered": 0,
        "conversions": 0,
        "conversion_rate": 0.0,
        "revenue": "-20.00",  # a refund with no order in the window
        "revenue_per_recipient": "-10.00",
        "replies": 0,
        "opt_outs": 0,
        "opt_out_rate": 0.0,
        "complaints": 0,
        "complaint_rate": 0.0,
    }
    assert body["holdout"]["delivered"] == 0
    # 0.25 - 0 ± 1.959964 * sqrt(0.25 * 0.75 / 8)
    assert (body["uplift"], body["uplift_ci_low"], body["uplift_ci_high"]) == (
        0.25,
        -0.0501,
        0.5501,
    )
    assert body["uplift_ci_method"] == "wald"
    assert body["incremental_revenue_per_recipient"] == "31.00"  # 21.00 - (-10.00)
    assert body["flagged"] is True  # 12.5 % opt-outs against none in the holdout
    assert body["window_closed"] is True

    as_csv = await client.get(f"{CAMPAIGNS}/{campaign_id}/report?format=csv", headers=bob)
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["arm"], r["size"], r["conversions"], r["revenue"]) for r in rows] == [
        ("treatment", "8", "2", "168.00"),
        ("holdout", "2", "0", "-20.00"),
    ]
    assert {r["uplift"] for r in rows} == {"0.25"}


async def test_the_holdout_hears_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    await setup_audience(client, admin, container)
    created = await client.post(
        CAMPAIGNS,
        headers=admin,
        json={
            "name": "小样",
            "topic": "new-tea",
            "audience": {"contacts": [{"channel": "hook", "external_id": u} for u in USERS[:5]]},
            "variants": [{"name": "A", "text": TEXT_A}],
            "holdout_share": 0.4,
        },
    )
    assert created.status_code == 201, created.text
    campaign_id = created.json()["campaign"]["id"]
    assert created.json()["campaign"]["status"] == "scheduled"
    await container.campaign_delivery.run_once()
    groups = await arms(container, campaign_id)

    async with container.store.transaction(readonly=True) as tx:
        channel = await tx.channels.get_by_public_id(f"{TENANT}.hook")
        assert channel is not None
        for user in USERS[:5]:
            contact = await tx.contacts.find(channel.id, user)
            assert contact is not None
            conversation = await tx.conversations.find_open(channel.id, contact.id)
            assert conversation is not None
            texts = [m.text for m in await tx.messages.history(conversation.id, 50)]
            assert (TEXT_A in texts) == (user in groups[Arm.TREATMENT]), user
    assert len(groups[Arm.HOLDOUT]) == 2


async def test_campaign_requests_are_checked(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    await setup_audience(client, admin, container)
    good = {
        "name": "x",
        "topic": "new-tea",
        "audience": {"tag": "vip"},
        "variants": [{"name": "A", "text": TEXT_A}],
    }
    too_much = await client.post(CAMPAIGNS, headers=admin, json=good | {"holdout_share": 0.6})
    error_of(too_much, 400, "invalid_request")
    both = await client.post(
        CAMPAIGNS, headers=admin, json=good | {"audience": {"tag": "vip", "segment": "s"}}
    )
    error_of(both, 400, "invalid_audience")
    nobody = await client.post(CAMPAIGNS, headers=admin, json=good | {"audience": {"tag": "none"}})
    error_of(nobody, 400, "empty_audience")
    stranger = await client.post(
        CAMPAIGNS,
        headers=admin,
        json=good | {"audience": {"contacts": [{"channel": "hook", "external_id": "nobody"}]}},
    )
    error_of(stranger, 404, "unknown_contact")
    twice = await client.post(
        CAMPAIGNS,
        headers=admin,
        json=good | {"variants": [{"name": "A", "text": "1"}, {"name": "A", "text": "2"}]},
    )
    error_of(twice, 400, "invalid_campaign")
    missing = await client.get(f"{CAMPAIGNS}/nope/report", headers=admin)
    error_of(missing, 404, "unknown_campaign")
    bad_format = await client.get(f"{CAMPAIGNS}/nope/report?format=xml", headers=admin)
    error_of(bad_format, 400, "invalid_request")

    draft = await client.post(CAMPAIGNS, headers=admin, json=good | {"draft": True})
    campaign_id = draft.json()["campaign"]["id"]
    assert draft.json()["campaign"]["status"] == "draft"
    assert (await container.campaign_delivery.run_once()).decided == 0
    submitted = await client.post(f"{CAMPAIGNS}/{campaign_id}/submit", headers=admin)
    assert submitted.json()["status"] == "awaiting_approval"  # 9 treatment > 5
    error_of(
        await client.post(f"{CAMPAIGNS}/{campaign_id}/submit", headers=admin), 400, "not_draft"
    )
    cancelled = await client.post(f"{CAMPAIGNS}/{campaign_id}/cancel", headers=admin)
    assert cancelled.json()["status"] == "cancelled"
    listed = (await client.get(CAMPAIGNS, headers=admin)).json()["campaigns"]
    assert [(c["id"], c["status"]) for c in listed] == [(campaign_id, "cancelled")]


async def test_another_tenant_cannot_see_a_campaign(
    client: httpx.AsyncClient, admin: dict[str, str], container: Container
) -> None:
    await setup_audience(client, admin, container)
    created = await client.post(
        CAMPAIGNS,
        headers=admin,
        json={
            "name": "x",
            "topic": "new-tea",
            "audience": {"tag": "vip"},
            "variants": [{"name": "A", "text": TEXT_A}],
        },
    )
    campaign_id = created.json()["campaign"]["id"]
    other = await client.post(
        "/api/v1/tenants",
        headers=admin,
        json={"slug": "other", "name": "Other", "industry": "retail"},
    )
    assert other.status_code in (200, 201), other.text
    for path in ("", "/report"):
        response = await client.get(
            f"/api/v1/tenants/other/campaigns/{campaign_id}{path}", headers=admin
        )
        error_of(response, 404, "unknown_campaign")
