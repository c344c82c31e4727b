"""The Official Account channel end to end: a simulated WeChat server pushes to
kindbot's callback, kindbot answers passively or through the (simulated)
customer-service API."""

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

from kindbot.bootstrap import Container, open_container
from kindbot.bundles.apply import apply_bundle
from kindbot.channels.wechat.crypto import sha1_signature
from kindbot.channels.wechat_oa.config import OAChannelConfig
from kindbot.settings import Settings
from kindbot.testing.wechat_api import WeChatSimulator
from kindbot.testing.wechat_callbacks import WeChatServerClient
from kindbot.web.app import build_app

APP_ID = "wx0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "kindbottoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
GH = "gh_0123456789ab"
CHANNEL = "oashop.oa"


@dataclass
class World:
    container: Container
    clock: FakeClock
    sim: WeChatSimulator
    kindbot: httpx.AsyncClient

    def wechat(self, mode: str = "safe") -> WeChatServerClient:
        return WeChatServerClient(
            self.kindbot,
            f"/channels/{CHANNEL}/callback",
            token=TOKEN,
            app_id=APP_ID,
            gh_id=GH,
            mode=mode,  # type: ignore[arg-type]
            encoding_aes_key=AES_KEY,
        )

    @property
    def now(self) -> int:
        return int(self.clock.now().timestamp())


def bundle(tmp_path: Path, api_base: str, mode: str = "safe", welcome: str = "") -> Path:
    (tmp_path / "faq.csv").write_text("question,answer\n运费怎么算,满99元包邮\n", encoding="utf-8")
    path = tmp_path / "bundle.yaml"
    path.write_text(
        "tenant: {slug: oashop, name: OA Shop, industry: retail}\n"
        "channels:\n"
        f"  - {{id: oa, type: wechat_oa, app_id: {APP_ID}, app_secret: {SECRET},"
        f" token: {TOKEN}, encoding_aes_key: {AES_KEY}, mode: {mode}, api_base: '{api_base}'"
        + (f", welcome: {welcome}" if welcome else "")
        + "}\n"
        "knowledge: [{file: faq.csv}]\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def world(container: Container, clock: FakeClock, tmp_path: Path) -> AsyncIterator[World]:
    sim = WeChatSimulator(clock=lambda: clock.now().timestamp())
    sim.add_oa_app(APP_ID, SECRET)
    async with serve_app(sim.app) as api_base:
        await apply_approved(container, bundle(tmp_path, api_base), clock.now())
        transport = httpx.ASGITransport(app=build_app(container))
        async with httpx.AsyncClient(transport=transport, base_url="http://kindbot") as client:
            yield World(container, clock, sim, client)
        await sim.aclose()


async def set_reply_budget(world: World, seconds: float) -> None:
    """Shorten the budget below anything the pipeline can meet (bundles allow ≥ 0.5 s)."""
    resolved = await world.container.directory.by_public_id(CHANNEL)
    changed = OAChannelConfig.model_validate_json(resolved.config).model_copy(
        update={"reply_budget": seconds}
    )
    async with world.container.store.transaction() as tx:
        await tx.channels.upsert(
            tenant_id=resolved.tenant.id,
            public_id=CHANNEL,
            local_id="oa",
            kind="wechat_oa",
            config_sealed=world.container.box.seal(changed.model_dump_json()),
        )


async def test_url_verification_echoes_only_when_signed(world: World) -> None:
    ts, nonce = str(world.now), "12345"
    good = {"signature": sha1_signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
    ok = await world.kindbot.get(f"/channels/{CHANNEL}/callback", params={**good, "echostr": "e1"})
    bad = await world.kindbot.get(
        f"/channels/{CHANNEL}/callback", params={**good, "signature": "0" * 40, "echostr": "e1"}
    )
    assert (ok.status_code, ok.text) == (200, "e1")
    assert bad.status_code == 403


@pytest.mark.parametrize("mode", ["safe", "compatible", "plain"])
async def test_text_gets_a_passive_reply_in_every_mode(
    world: World, mode: str, tmp_path: Path
) -> None:
    if mode != "safe":
        (tmp_path / mode).mkdir()
        await apply_bundle(
            world.container.store,
            world.container.box,
            bundle(tmp_path / mode, "http://unused", mode),
            world.clock.now(),
        )
    wechat = world.wechat(mode)
    reply = await wechat.push(
        wechat.text_xml("openid-1", "运费怎么算", "1001", world.now), world.now
    )

    assert reply.status == 200
    assert reply.content is not None
    assert "满99元包邮" in reply.content
    assert reply.fields is not None
    assert reply.fields["ToUserName"] == "openid-1"
    assert reply.fields["FromUserName"] == GH


async def test_late_reply_goes_through_the_customer_service_api(world: World) -> None:
    await set_reply_budget(world, 0.0)
    world.sim.user_message(APP_ID, "openid-2")
    wechat = world.wechat()
    reply = await wechat.push(
        wechat.text_xml("openid-2", "运费怎么算", "2001", world.now), world.now
    )
    assert reply.body == b"success"

    await world.container.supervisor.aclose()  # the job finishes and releases its reply
    assert await world.container.outbox_worker.run_once() == 1
    sent = world.sim.sent(APP_ID)
    assert [m.touser for m in sent] == ["openid-2"]
    assert "满99元包邮" in sent[0].payload_json


async def test_a_retry_is_answered_once_and_never_sent_twice(world: World) -> None:
    world.sim.user_message(APP_ID, "openid-3")
    wechat = world.wechat()
    xml = wechat.text_xml("openid-3", "运费怎么算", "3001", world.now)
    first = await wechat.push(xml, world.now, nonce="777")
    retry = await wechat.push(xml, world.now, nonce="777")

    assert first.content is not None
    assert retry.body == b"success"
    world.clock.advance(timedelta(minutes=5))
    assert await world.container.outbox_worker.run_once() == 0
    assert world.sim.sent(APP_ID) == []


async def test_a_replayed_nonce_with_other_content_is_refused(world: World) -> None:
    wechat = world.wechat()
    await wechat.push(wechat.text_xml("openid-4", "你好", "4001", world.now), world.now, nonce="9")
    replay = await wechat.push(
        wechat.text_xml("openid-4", "运费", "4002", world.now), world.now, nonce="9"
    )
    assert replay.status == 403
    assert b"replayed_nonce" in replay.body


async def test_bad_signature_stale_timestamp_and_bad_xml_store_nothing(world: World) -> None:
    wechat = world.wechat()
    query, body = wechat.build(wechat.text_xml("openid-5", "hi", "5001", world.now), world.now)
    url = f"/channels/{CHANNEL}/callback"
    forged = await world.kindbot.post(
        url, params={**query, "msg_signature": "0" * 40}, content=body
    )
    stale_ts = world.now - 3600
    stale_q, stale_b = wechat.build(wechat.text_xml("openid-5", "hi", "5002", stale_ts), stale_ts)
    stale = await world.kindbot.post(url, params=stale_q, content=stale_b)
    plain = WeChatServerClient(
        world.kindbot, url, token=TOKEN, app_id=APP_ID, gh_id=GH, mode="plain"
    )
    broken_q, _ = plain.build("<xml>", world.now)
    broken = await world.kindbot.post(url, params=broken_q, content=b"<xml><oops")

    assert forged.status_code == 403
    assert stale.status_code == 403
    assert stale.json()["error"]["code"] == "stale_timestamp"
    assert broken.status_code in (400, 403)
    async with world.container.store.transaction() as tx:
        tenant = await tx.tenants.get_by_slug("oashop")
        assert tenant is not None
        channel = await tx.channels.get_by_public_id(CHANNEL)
        assert channel is not None
        assert await tx.contacts.find(channel.id, "openid-5") is None


async def test_unfollow_stops_every_message_and_events_get_no_chat(world: World) -> None:
    wechat = world.wechat()
    follow = await wechat.push(wechat.event_xml("openid-6", "subscribe", world.now), world.now)
    unfollow = await wechat.push(
        wechat.event_xml("openid-6", "unsubscribe", world.now + 1), world.now
    )
    assert follow.body == b"success"
    assert unfollow.body == b"success"
    resolved = await world.container.directory.by_public_id(CHANNEL)
    async with world.container.store.transaction() as tx:
        contact = await tx.contacts.find(resolved.channel.id, "openid-6")
    assert contact is not None
    assert not contact.followed


async def test_unknown_message_types_are_accepted(world: World) -> None:
    wechat = world.wechat()
    xml = (
        f"<xml><ToUserName><![CDATA[{GH}]]></ToUserName><FromUserName><![CDATA[o7]]></FromUserName>"
        f"<CreateTime>{world.now}</CreateTime><MsgType><![CDATA[hologram]]></MsgType>"
        "<MsgId>7001</MsgId></xml>"
    )
    reply = await wechat.push(xml, world.now)
    assert reply.body == b"success"
    resolved = await world.container.directory.by_public_id(CHANNEL)
    async with world.container.store.transaction() as tx:
        contact = await tx.contacts.find(resolved.channel.id, "o7")
        assert contact is not None
        history = await tx.messages.history_for_contact(contact.id, 10)
    assert [(m.kind, m.text) for m in history] == [("unknown", "[hologram]")]


async def test_following_gets_the_welcome_once_per_follow(world: World, tmp_path: Path) -> None:
    await apply_bundle(
        world.container.store,
        world.container.box,
        bundle(tmp_path, "http://unused", welcome="欢迎关注山间茶舍"),
        world.clock.now(),
    )
    wechat = world.wechat()
    first = await wechat.push(wechat.event_xml("openid-8", "subscribe", world.now), world.now)
    await wechat.push(wechat.event_xml("openid-8", "unsubscribe", world.now + 1), world.now)
    again = await wechat.push(wechat.event_xml("openid-8", "subscribe", world.now + 2), world.now)

    assert first.content is not None
    assert first.content.startswith("欢迎关注山间茶舍")
    assert "AI" in first.content  # the first bot message discloses the assistant
    assert again.content == "欢迎关注山间茶舍"


async def test_a_retry_landing_on_another_process_is_answered_once(
    world: World, settings: Settings
) -> None:
    """Process A misses the budget; WeChat's retry reaches process B (same database)."""
    await set_reply_budget(world, 0.0)
    world.sim.user_message(APP_ID, "openid-9")
    async with open_container(settings, clock=world.clock) as other:
        transport = httpx.ASGITransport(app=build_app(other))
        async with httpx.AsyncClient(transport=transport, base_url="http://kindbot-b") as b_http:
            on_a = world.wechat()
            on_b = WeChatServerClient(
                b_http,
                f"/channels/{CHANNEL}/callback",
                token=TOKEN,
                app_id=APP_ID,
                gh_id=GH,
                mode="safe",
                encoding_aes_key=AES_KEY,
            )
            xml = on_a.text_xml("openid-9", "运费怎么算", "9001", world.now)
            first = await on_a.push(xml, world.now, nonce="42")
            retry = await on_b.push(xml, world.now, nonce="42")
            await world.container.supervisor.aclose()
            await other.supervisor.aclose()
        delivered = await world.container.outbox_worker.run_once()
        delivered += await other.outbox_worker.run_once()

    assert first.body == b"success"
    passive = 1 if retry.content is not None else 0
    assert passive + len(world.sim.sent(APP_ID)) == 1  # exactly one hand-over, whichever way
    assert delivered == 1 - passive


async def test_deeply_nested_xml_is_a_400_before_the_signature(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 13, defect 2: RecursionError (a 500 and ~60 log lines) per request, unsigned.
    deep = b"<xml><a>" + b"<b>" * 5000 + b"</b>" * 5000 + b"</a></xml>"
    url = f"/channels/{CHANNEL}/callback"
    query = {"timestamp": str(world.now), "nonce": "1", "encrypt_type": "aes", "msg_signature": "0"}
    response = await world.kindbot.post(url, params=query, content=deep)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "xml_too_deep"
    assert not [r for r in caplog.records if r.exc_info]


async def test_a_long_event_key_is_not_a_replayed_nonce(world: World) -> None:
    # Issue 13, defect 6: the stored fingerprint was cut to 200 characters, then
    # compared uncut, so a long key was "replayed" on its first use.
    wechat = world.wechat()
    openid = "o" * 128
    reply = await wechat.push(
        wechat.event_xml(openid, "CLICK", world.now, key="k" * 128), world.now, nonce="77"
    )
    assert reply.status == 200


async def test_overlong_identifiers_are_a_400(world: World) -> None:
    wechat = world.wechat()
    long_openid = await wechat.push(
        wechat.text_xml("o" * 200, "你好", "8001", world.now), world.now
    )
    query, body = wechat.build(wechat.text_xml("o8", "你好", "8002", world.now), world.now)
    long_nonce = await world.kindbot.post(
        f"/channels/{CHANNEL}/callback", params={**query, "nonce": "9" * 65}, content=body
    )

    assert long_openid.status == 400
    assert b"identifier_too_long" in long_openid.body
    assert long_nonce.status_code == 400
    assert long_nonce.json()["error"]["code"] == "identifier_too_long"
