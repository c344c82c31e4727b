"""Journeys end to end: declared over the API, triggered by what contacts do, decided by
the guard when they fire — and nothing is lost when the worker restarts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from tests.support.api import TENANT, bearer, new_key, say
from tests.support.clock import FakeClock

from kindbot.bootstrap import Container, open_container
from kindbot.bundles.apply import apply_bundle
from kindbot.core.records.journeys import RunStatus
from kindbot.settings import Settings

JOURNEYS = f"/api/v1/tenants/{TENANT}/journeys"
EVENTS = f"/api/v1/tenants/{TENANT}/events"
TIPS = {
    "trigger": {"event": "order"},
    "delay": "3d",
    "topic": "care",
    "text": "您的茶到了吗？冲泡小贴士：水温 85°C。",
}


def _order(event_id: str, user: str, at: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "order",
        "occurred_at": at,
        "channel": "hook",
        "external_id": user,
        "amount": "88.00",
    }


async def _consent(client: httpx.AsyncClient, key: dict[str, str], user: str) -> None:
    await say(client, user, "你好", f"hello-{user}")
    granted = await client.post(
        f"/api/v1/tenants/{TENANT}/contacts/hook/{user}/consents",
        headers=key,
        json={"topic": "care", "wording": "send me care tips after I buy"},
    )
    assert granted.status_code == 201, granted.text


async def _runs(client: httpx.AsyncClient, key: dict[str, str], name: str) -> dict[str, str]:
    """Each run's status, by the trigger that started it."""
    found = await client.get(f"{JOURNEYS}/{name}/runs", headers=key)
    assert found.status_code == 200, found.text
    return {run["trigger"]: run["status"] for run in found.json()}


async def test_an_order_journey_fires_after_its_delay_through_the_guard_across_a_restart(
    container: Container,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    clock: FakeClock,
    settings: Settings,
) -> None:
    key = bearer(await new_key(client, admin))
    declared = await client.put(f"{JOURNEYS}/brewing-tips", headers=key, json=TIPS)
    assert declared.status_code == 200, declared.text
    assert declared.json()["delay"] == "3d"
    await _consent(client, key, "alice")
    # Before the journey: bob's earlier order does not start it.
    batch = {
        "events": [
            _order("o1", "alice", "2026-11-25T18:30:00+08:00"),
            _order("o2", "bob", "2026-11-25T18:40:00+08:00"),
            _order("o0", "carol", "2026-11-24T09:00:00+08:00"),
        ]
    }
    clock.current += timedelta(hours=1)
    assert (await client.post(EVENTS, headers=key, json=batch)).status_code == 200

    assert await container.journeys.scan() == 2
    assert await container.journeys.scan() == 0  # stored once
    assert await _runs(client, key, "brewing-tips") == {
        "event:o1": "scheduled",
        "event:o2": "scheduled",
    }
    assert await container.journeys.fire_due() == []  # not due for three days

    # The worker restarts: a new process finds the runs in the database.
    clock.current += timedelta(days=3)
    async with open_container(settings, clock=clock) as restarted:
        fired = {f.status for f in await restarted.journeys.fire_due()}
    assert fired == {RunStatus.SENT, RunStatus.SKIPPED}
    runs = (await client.get(f"{JOURNEYS}/brewing-tips/runs", headers=key)).json()
    by_trigger = {run["trigger"]: run for run in runs}
    assert by_trigger["event:o1"]["status"] == "sent"
    assert by_trigger["event:o1"]["message_id"]
    assert by_trigger["event:o2"]["status"] == "skipped"
    assert by_trigger["event:o2"]["reason"].startswith("consent")
    listed = (await client.get(JOURNEYS, headers=key)).json()
    assert listed[0]["runs"]["sent"] == 1
    assert listed[0]["runs"]["skipped"] == 1

    # Alice orders again: each contact runs a journey once.
    clock.current += timedelta(hours=1)
    again = {"events": [_order("o3", "alice", "2026-11-28T19:40:00+08:00")]}
    assert (await client.post(EVENTS, headers=key, json=again)).status_code == 200
    assert await container.journeys.scan() == 0


async def test_a_run_claimed_by_a_worker_that_died_fires_once_its_lease_ends(
    container: Container,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    clock: FakeClock,
) -> None:
    key = bearer(await new_key(client, admin))
    now_tips = TIPS | {"delay": "0m"}
    assert (await client.put(f"{JOURNEYS}/tips", headers=key, json=now_tips)).status_code == 200
    await _consent(client, key, "alice")
    clock.current += timedelta(minutes=1)
    batch = {"events": [_order("o1", "alice", "2026-11-25T18:00:30+08:00")]}
    assert (await client.post(EVENTS, headers=key, json=batch)).status_code == 200
    await container.journeys.scan()
    async with container.store.transaction() as tx:  # a worker claims it, then dies
        claimed = await tx.journeys.claim_due(clock.now(), clock.now() + timedelta(minutes=2), 10)
    assert len(claimed) == 1

    assert await container.journeys.fire_due() == []  # leased: nobody else fires it
    clock.current += timedelta(minutes=3)
    fired = await container.journeys.fire_due()
    assert [f.status for f in fired] == [RunStatus.SENT]
    assert await container.journeys.fire_due() == []


async def test_opting_out_cancels_a_first_contact_journey(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str], clock: FakeClock
) -> None:
    key = bearer(await new_key(client, admin))
    welcome = {
        "trigger": {"first_contact": True},
        "delay": "1d",
        "topic": "news",
        "text": "感谢光临，新品上架时告诉您。",
    }
    assert (await client.put(f"{JOURNEYS}/welcome", headers=key, json=welcome)).status_code == 200
    clock.current += timedelta(minutes=1)
    await say(client, "dave", "你好", "m1")
    await say(client, "erin", "你好", "m2")
    clock.current += timedelta(minutes=1)
    assert await container.journeys.scan() == 2
    await say(client, "dave", "退订", "m3")

    clock.current += timedelta(days=1)
    await container.journeys.fire_due()

    runs = (await client.get(f"{JOURNEYS}/welcome/runs", headers=key)).json()
    reasons = sorted((run["status"], run["reason"] or "") for run in runs)
    assert reasons[0] == ("cancelled", "the contact opted out")
    assert reasons[1][0] == "skipped"  # erin never consented to news


async def test_a_tag_journey_leaves_out_contacts_tagged_before_it(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str], clock: FakeClock
) -> None:
    key = bearer(await new_key(client, admin))
    await say(client, "fay", "你好", "m1")
    await say(client, "gus", "你好", "m2")
    tag = f"/api/v1/tenants/{TENANT}/contacts/hook/{{}}/tags/vip"
    assert (await client.put(tag.format("fay"), headers=key)).status_code == 200
    vip = {"trigger": {"tag": "vip"}, "delay": "2h", "topic": "vip", "text": "VIP 专属活动。"}
    assert (await client.put(f"{JOURNEYS}/vip", headers=key, json=vip)).status_code == 200
    assert (await client.put(tag.format("gus"), headers=key)).status_code == 200

    assert await container.journeys.scan() == 1

    runs = {run["status"] for run in (await client.get(f"{JOURNEYS}/vip/runs", headers=key)).json()}
    assert runs == {"skipped", "scheduled"}  # fay (tagged before), gus


async def test_withdrawing_cancels_scheduled_runs_and_bad_declarations_are_refused(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str], clock: FakeClock
) -> None:
    key = bearer(await new_key(client, admin))
    assert (await client.put(f"{JOURNEYS}/tips", headers=key, json=TIPS)).status_code == 200
    clock.current += timedelta(minutes=1)
    batch = {"events": [_order("o1", "alice", "2026-11-25T18:00:30+08:00")]}
    assert (await client.post(EVENTS, headers=key, json=batch)).status_code == 200
    await container.journeys.scan()

    withdrawn = await client.delete(f"{JOURNEYS}/tips", headers=key)
    assert withdrawn.json() == {"cancelled": 1}
    assert await _runs(client, key, "tips") == {"event:o1": "cancelled"}
    assert (await client.delete(f"{JOURNEYS}/nope", headers=key)).status_code == 404

    too_long = await client.put(f"{JOURNEYS}/tips", headers=key, json=TIPS | {"delay": "91d"})
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == "invalid_journey"
    two = TIPS | {"trigger": {"event": "order", "tag": "vip"}}
    assert (await client.put(f"{JOURNEYS}/tips", headers=key, json=two)).status_code == 400
    bad_name = await client.put(f"{JOURNEYS}/Tips!", headers=key, json=TIPS)
    assert bad_name.status_code == 400
    assert (await client.get(f"{JOURNEYS}/tips", headers=key)).json()["enabled"] is False


async def test_a_bundle_declares_journeys_and_withdraws_those_it_no_longer_lists(
    container: Container, clock: FakeClock, tmp_path: Path
) -> None:
    head = (
        "tenant: {slug: shop2, name: Shop, industry: retail}\n"
        "channels:\n  - {id: hook, type: webhook, secret: 0123456789abcdef0123}\n"
    )
    tips = "  - {name: tips, trigger: {event: order}, delay: 3d, topic: care, text: 小贴士}\n"
    hi = "  - {name: hi, trigger: {first_contact: true}, delay: 1h, topic: news, text: Hi}\n"
    path = tmp_path / "shop2.yaml"
    path.write_text(head + "journeys:\n" + tips + hi, encoding="utf-8")
    await apply_bundle(container.store, container.box, path, clock.now())
    path.write_text(head + "journeys:\n" + tips, encoding="utf-8")
    await apply_bundle(container.store, container.box, path, clock.now())
    path.write_text(head, encoding="utf-8")  # no journeys key: left as they are
    await apply_bundle(container.store, container.box, path, clock.now())

    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("shop2")
        assert tenant is not None
        found = {j.definition.name: j.enabled for j in await tx.journeys.list_for_tenant(tenant.id)}
    assert found == {"tips": True, "hi": False}


async def test_erasing_a_contact_erases_its_runs(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str], clock: FakeClock
) -> None:
    key = bearer(await new_key(client, admin))
    assert (await client.put(f"{JOURNEYS}/tips", headers=key, json=TIPS)).status_code == 200
    clock.current += timedelta(minutes=1)
    batch = {"events": [_order("o1", "alice", "2026-11-25T18:00:30+08:00")]}
    assert (await client.post(EVENTS, headers=key, json=batch)).status_code == 200
    assert await container.journeys.scan() == 1

    erased = await client.delete(f"/api/v1/tenants/{TENANT}/contacts/hook/alice", headers=key)

    assert erased.status_code == 200, erased.text
    assert await _runs(client, key, "tips") == {}


async def test_a_segment_condition_is_checked_when_the_run_fires(
    container: Container, client: httpx.AsyncClient, admin: dict[str, str], clock: FakeClock
) -> None:
    key = bearer(await new_key(client, admin))
    segment = {"name": "vips", "definition": {"all_of": [{"tags": {"all": ["vip"]}}]}}
    made = await client.post(f"/api/v1/tenants/{TENANT}/segments", headers=key, json=segment)
    assert made.status_code == 201, made.text
    vip_only = TIPS | {"segment": "vips", "delay": "1h"}
    assert (await client.put(f"{JOURNEYS}/tips", headers=key, json=vip_only)).status_code == 200
    await _consent(client, key, "alice")
    await _consent(client, key, "bob")
    clock.current += timedelta(minutes=1)
    batch = {
        "events": [
            _order("o1", "alice", "2026-11-25T18:00:30+08:00"),
            _order("o2", "bob", "2026-11-25T18:00:40+08:00"),
        ]
    }
    assert (await client.post(EVENTS, headers=key, json=batch)).status_code == 200
    assert await container.journeys.scan() == 2
    # Alice becomes a VIP after her order, before the run fires: membership is checked then.
    tag = f"/api/v1/tenants/{TENANT}/contacts/hook/alice/tags/vip"
    assert (await client.put(tag, headers=key)).status_code == 200

    clock.current += timedelta(hours=1)
    await container.journeys.fire_due()

    runs = (await client.get(f"{JOURNEYS}/tips/runs", headers=key)).json()
    assert {r["trigger"]: (r["status"], r["reason"]) for r in runs} == {
        "event:o1": ("sent", None),
        "event:o2": ("skipped", "not in segment vips"),
    }
