"""The WeCom channel end to end: a simulated WeCom server calls kindbot's callback,
kindbot answers at once and works through the (simulated) WeCom API: app
messages, 微信客服 pulls and sends, and welcome messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from tests.support.clock import FakeClock
from tests.support.live import serve_app
from tests.support.tenants import apply_approved

from kindbot.bootstrap import Container
from kindbot.core.records.conversations import ContactRecord, MessageRecord
from kindbot.core.records.outbox import OutboxItem
from kindbot.pipeline.supervisor import TaskSupervisor
from kindbot.testing.wechat_api import WeChatSimulator
from kindbot.testing.wecom_callbacks import WeComServerClient
from kindbot.web.app import build_app

CORP = "ww0123456789abcdef"
AGENT = 1000002
SECRET = "wecom-app-secret-0123456789abcdef"
TOKEN = "wecomtoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
KFID = "wkKindbotShop01"
MEMBER = "zhangsan"
CHANNEL = "wecomshop.wecom"
URL = f"/channels/{CHANNEL}/callback"
WELCOME = "欢迎添加山间茶舍！"


@dataclass
class World:
    container: Container
    clock: FakeClock
    sim: WeChatSimulator
    kindbot: httpx.AsyncClient
    wecom: WeComServerClient

    @property
    def now(self) -> int:
        return int(self.clock.now().timestamp())

    async def settle(self) -> None:
        """Drain the owned jobs the callbacks spawned (a fresh supervisor takes over)."""
        await self.container.supervisor.aclose()
        self.container.supervisor = TaskSupervisor()

    async def contact(self, external_id: str) -> ContactRecord | None:
        resolved = await self.container.directory.by_public_id(CHANNEL)
        async with self.container.store.transaction() as tx:
            return await tx.contacts.find(resolved.channel.id, external_id)

    async def inbound_texts(self, external_id: str) -> list[str]:
        return [m.text for m in await self.history(external_id) if m.direction == "inbound"]

    async def history(self, external_id: str) -> list[MessageRecord]:
        contact = await self.contact(external_id)
        assert contact is not None
        async with self.container.store.transaction() as tx:
            return await tx.messages.history_for_contact(contact.id, 50)

    async def last_outbox(self, external_id: str) -> OutboxItem:
        """The outbox row of the newest message with ``external_id`` (a reply)."""
        last = (await self.history(external_id))[-1]
        async with self.container.store.transaction() as tx:
            item = await tx.outbox.for_message(last.id)
        assert item is not None
        return item

    async def cursor(self) -> str | None:
        resolved = await self.container.directory.by_public_id(CHANNEL)
        async with self.container.store.transaction() as tx:
            return await tx.kf_cursors.get(resolved.channel.id, KFID)


def bundle(tmp_path: Path, api_base: str) -> Path:
    (tmp_path / "faq.csv").write_text("question,answer\n运费怎么算,满99元包邮\n", encoding="utf-8")
    path = tmp_path / "bundle.yaml"
    path.write_text(
        "tenant: {slug: wecomshop, name: WeCom Shop, industry: retail}\n"
        "channels:\n"
        f"  - {{id: wecom, type: wecom, corp_id: {CORP}, agent_id: {AGENT}, secret: {SECRET},"
        f" token: {TOKEN}, encoding_aes_key: {AES_KEY}, api_base: '{api_base}',"
        f" open_kfid: {KFID}, welcome: '{WELCOME}'}}\n"
        "knowledge: [{file: faq.csv}]\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def world(container: Container, clock: FakeClock, tmp_path: Path) -> AsyncIterator[World]:
    sim = WeChatSimulator(clock=lambda: clock.now().timestamp())
    sim.add_wecom_corp(CORP, SECRET)
    sim.add_kf_account(CORP, KFID)
    sim.add_kf_account(CORP, "wkSomeoneElse")
    sim.add_wecom_member(CORP, MEMBER)
    async with serve_app(sim.app) as api_base:
        await apply_approved(container, bundle(tmp_path, api_base), clock.now())
        transport = httpx.ASGITransport(app=build_app(container))
        async with httpx.AsyncClient(transport=transport, base_url="http://kindbot") as client:
            wecom = WeComServerClient(
                client, URL, token=TOKEN, corp_id=CORP, agent_id=AGENT, encoding_aes_key=AES_KEY
            )
            yield World(container, clock, sim, client, wecom)
        await sim.aclose()


async def test_url_verification_returns_the_decrypted_echostr(world: World) -> None:
    query = world.wecom.verification_query("echo-5742", world.now)
    ok = await world.kindbot.get(URL, params=query)
    forged = await world.kindbot.get(URL, params={**query, "msg_signature": "0" * 40})

    assert (ok.status_code, ok.content) == (200, b"echo-5742")
    assert forged.status_code == 403


async def test_an_app_text_is_stored_and_answered_through_message_send(world: World) -> None:
    xml = world.wecom.text_xml(MEMBER, "运费怎么算", "1001", world.now)
    answer = await world.wecom.push(xml, world.now)
    assert (answer.status_code, answer.content) == (200, b"")

    await world.settle()
    assert await world.container.outbox_worker.run_once() == 1
    sent = world.sim.app_sent(CORP)
    assert [(m.agentid, m.touser) for m in sent] == [(AGENT, MEMBER)]
    assert "满99元包邮" in sent[0].payload_json
    history = await world.history(f"member:{MEMBER}")
    assert [(m.direction, m.status) for m in history] == [
        ("inbound", "processed"),
        ("outbound", "delivered"),
    ]


async def test_a_member_the_app_cannot_reach_fails_with_a_reason(world: World) -> None:
    await world.wecom.push(
        world.wecom.text_xml("stranger", "运费怎么算", "1002", world.now), world.now
    )
    await world.settle()
    assert await world.container.outbox_worker.run_once() == 1

    item = await world.last_outbox("member:stranger")
    assert item.status == "failed"
    assert "not a member the app can reach" in (item.last_error or "")
    assert world.sim.app_sent(CORP) == []


async def test_kf_notification_pulls_feeds_replies_and_keeps_the_cursor(world: World) -> None:
    world.sim.customer_says(CORP, KFID, "wmCustomer1", "运费怎么算")
    answer = await world.wecom.push(world.wecom.kf_notify_xml(KFID, "CB1", world.now), world.now)
    assert (answer.status_code, answer.content) == (200, b"")
    await world.settle()
    assert await world.container.outbox_worker.run_once() == 1

    sent = world.sim.kf_sent(CORP)
    assert [(m.touser, m.open_kfid) for m in sent] == [("wmCustomer1", KFID)]
    assert "满99元包邮" in sent[0].payload_json
    assert sent[0].msgid == (await world.last_outbox("wmCustomer1")).id  # the client msgid
    first_cursor = await world.cursor()
    assert first_cursor

    world.sim.customer_says(CORP, KFID, "wmCustomer1", "你好")
    await world.wecom.push(world.wecom.kf_notify_xml(KFID, "CB2", world.now + 1), world.now)
    await world.settle()
    await world.container.outbox_worker.run_once()

    # the first message was not fed again
    assert await world.inbound_texts("wmCustomer1") == ["运费怎么算", "你好"]
    assert len(world.sim.kf_sent(CORP)) == 2
    assert await world.cursor() not in (None, first_cursor)
    assert world.sim.gettoken_calls(CORP) == 1  # one shared token for pulls and sends


async def test_paging_follows_has_more_until_the_end(world: World) -> None:
    world.container.wecom.page_limit = 2
    customers = [f"wmPager{i}" for i in range(5)]
    for customer in customers:
        world.sim.customer_says(CORP, KFID, customer, "运费怎么算")
    await world.wecom.push(world.wecom.kf_notify_xml(KFID, "CB", world.now), world.now)
    await world.settle()

    for customer in customers:
        assert await world.inbound_texts(customer) == ["运费怎么算"]
    assert await world.container.outbox_worker.run_once() == 5
    assert sorted(m.touser for m in world.sim.kf_sent(CORP)) == customers


async def test_concurrent_notifications_coalesce_into_few_pulls(world: World) -> None:
    calls: list[str] = []

    async def count(request: httpx.Request) -> None:
        if request.url.path.endswith("/kf/sync_msg"):
            calls.append(request.url.path)

    world.container.http.event_hooks["request"].append(count)
    world.sim.customer_says(CORP, KFID, "wmBusy", "你好")
    for n in range(5):
        await world.wecom.push(world.wecom.kf_notify_xml(KFID, f"CB{n}", world.now), world.now)
    await world.settle()

    assert await world.inbound_texts("wmBusy") == ["你好"]
    assert len(calls) <= 2


async def test_a_reply_after_the_48h_window_fails_and_is_not_retried(world: World) -> None:
    world.sim.customer_says(CORP, KFID, "wmLate", "运费怎么算")
    world.clock.advance(timedelta(hours=49))
    await world.wecom.push(world.wecom.kf_notify_xml(KFID, "CB", world.now), world.now)
    await world.settle()
    assert await world.container.outbox_worker.run_once() == 1

    item = await world.last_outbox("wmLate")
    assert item.status == "failed"
    assert "window closed" in (item.last_error or "")
    world.clock.advance(timedelta(minutes=10))
    assert await world.container.outbox_worker.run_once() == 0
    assert world.sim.kf_sent(CORP) == []


async def test_notifications_for_another_kf_account_are_ignored(world: World) -> None:
    world.sim.customer_says(CORP, "wkSomeoneElse", "wmOther", "你好")
    answer = await world.wecom.push(
        world.wecom.kf_notify_xml("wkSomeoneElse", "CB", world.now), world.now
    )
    await world.settle()
    assert answer.status_code == 200
    assert await world.contact("wmOther") is None


async def test_the_json_envelope_is_accepted(world: World) -> None:
    xml = world.wecom.text_xml(MEMBER, "运费怎么算", "3001", world.now)
    answer = await world.wecom.push(xml, world.now, json_envelope=True)
    await world.settle()

    assert answer.status_code == 200
    assert await world.inbound_texts(f"member:{MEMBER}") == ["运费怎么算"]


async def test_bad_signature_stale_timestamp_and_replays_store_nothing(world: World) -> None:
    query, body = world.wecom.build(world.wecom.text_xml("u5", "hi", "5001", world.now), world.now)
    forged = await world.kindbot.post(
        URL, params={**query, "msg_signature": "0" * 40}, content=body
    )
    stale_ts = world.now - 3600
    stale_q, stale_b = world.wecom.build(
        world.wecom.text_xml("u5", "hi", "5002", stale_ts), stale_ts
    )
    stale = await world.kindbot.post(URL, params=stale_q, content=stale_b)
    await world.settle()

    assert forged.status_code == 403
    assert (stale.status_code, stale.json()["error"]["code"]) == (403, "stale_timestamp")
    assert await world.contact("member:u5") is None

    wecom = world.wecom
    await wecom.push(wecom.text_xml("u6", "你好", "6001", world.now), world.now, nonce="9")
    replay = await wecom.push(wecom.text_xml("u6", "运费", "6002", world.now), world.now, nonce="9")
    assert (replay.status_code, replay.json()["error"]["code"]) == (403, "replayed_nonce")


async def test_a_welcome_goes_out_once_through_the_guard(world: World) -> None:
    code = world.sim.customer_added(CORP, MEMBER, "wmNewFriend")
    xml = world.wecom.external_contact_added_xml(MEMBER, "wmNewFriend", code, world.now)
    first = await world.wecom.push(xml, world.now, nonce="42")
    retry = await world.wecom.push(xml, world.now, nonce="42")  # WeCom retries the same callback
    await world.settle()

    assert (first.status_code, retry.status_code) == (200, 200)
    welcomes = world.sim.welcomes_sent(CORP)
    assert [(w.external_userid, w.userid) for w in welcomes] == [("wmNewFriend", MEMBER)]
    assert welcomes[0].content.startswith(WELCOME)
    history = await world.history("wmNewFriend")
    assert [(m.direction, m.event, m.status) for m in history] == [
        ("inbound", "change_external_contact", "processed"),
        ("outbound", None, "delivered"),
    ]
    async with world.container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug("wecomshop")
        assert tenant is not None
        audit = await tx.audit.entries(tenant.id, 0, 100)
    assert [e.decision for e in audit if e.subject == f"message:{history[1].id}"] == ["allow"]
    assert await world.container.outbox_worker.run_once() == 0  # handed over, not re-sent


async def test_no_welcome_for_a_stale_event(world: World) -> None:
    code = world.sim.customer_added(CORP, MEMBER, "wmSlow")
    xml = world.wecom.external_contact_added_xml(MEMBER, "wmSlow", code, world.now - 30)
    answer = await world.wecom.push(xml, world.now)
    await world.settle()

    assert answer.status_code == 200
    assert world.sim.welcomes_sent(CORP) == []
    assert [m.direction for m in await world.history("wmSlow")] == ["inbound"]
