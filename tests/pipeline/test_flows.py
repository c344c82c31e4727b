"""Flows through the real pipeline, a real database and a real HTTP endpoint on 127.0.0.1."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from tests.support.clock import FakeClock
from tests.support.shop_api import ShopApi, order_bundle, shop_api
from tests.support.tenants import apply_approved

from kindbot.bootstrap import Container, open_container
from kindbot.core.egress import AddressPolicy, PinnedTransport, is_public
from kindbot.core.events import FeedResult, InboundEvent, InboundKind
from kindbot.core.records.conversations import ConversationState
from kindbot.dialogue.flows import CANCELLED, CallResult, EndpointCall
from kindbot.dialogue.handoff import NOBODY_ZH
from kindbot.guard.texts import OPT_OUT_CONFIRM_ZH
from kindbot.pipeline.decide.flow_calls import EndpointSpec, call_endpoint
from kindbot.settings import Settings

ASKED = "请告诉我订单号。"
ANSWERED = "订单 A12345678：已发货，顺丰，预计 12月1日。"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The platform lets these tests' flows call the loopback test server."""
    return replace(settings, allow_private_endpoints=True)


@pytest.fixture
async def api(container: Container, clock: FakeClock, tmp_path: Path) -> AsyncIterator[ShopApi]:
    async with shop_api() as served:
        bundle = tmp_path / "shop.yaml"
        bundle.write_text(order_bundle(served.url), encoding="utf-8")
        await apply_approved(container, bundle, clock.now())
        yield served


class Visitor:
    """One web chat visitor of the ``shop`` tenant."""

    def __init__(self, container: Container, clock: FakeClock, sender: str = "v1") -> None:
        self.container, self.clock, self.sender = container, clock, sender
        self.sent = 0
        self.last: FeedResult | None = None

    async def say(self, text: str) -> str:
        self.sent += 1
        event = InboundEvent(
            channel_public_id="shop.web",
            sender=self.sender,
            kind=InboundKind.TEXT,
            text=text,
            idempotency_key=f"{self.sender}-{self.sent}",
            received_at=self.clock.now(),
        )
        self.last = await self.container.pipeline.feed(event, sync_grace=timedelta(seconds=30))
        return "\n".join(reply.text for reply in self.last.replies)

    async def flow_state(self) -> str | None:
        assert self.last is not None
        async with self.container.store.transaction(readonly=True) as tx:
            state = await tx.flows.state(self.last.conversation_id)
        return None if state is None else f"{state.flow}:{state.state}"


async def test_order_status_conversation_calls_the_shop_api(
    container: Container, clock: FakeClock, api: ShopApi
) -> None:
    visitor = Visitor(container, clock)
    assert (await visitor.say("你好，我想查订单")).startswith(ASKED)
    assert await visitor.flow_state() == "order-status:ask_order"
    assert await visitor.say("订单号是 A12345678") == ANSWERED
    assert await visitor.flow_state() is None
    assert visitor.last is not None
    assert api.received == [
        {
            "order": "A12345678",
            "flow": "order-status",
            "tenant": "shop",
            "contact_id": visitor.last.contact_id,
            "_auth": "Bearer shop-secret-token",
        }
    ]


async def test_a_post_endpoint_gets_the_slots_as_json(
    container: Container, clock: FakeClock, api: ShopApi
) -> None:
    visitor = Visitor(container, clock)
    assert (await visitor.say("请给我回电")).startswith("请留下手机号。")
    assert await visitor.say("138 0013 8000") == "已登记，工单号 CB-7。"
    assert api.received[0]["phone"] == "13800138000"
    assert api.received[0]["flow"] == "callback"


@pytest.mark.parametrize(
    "order", ["ERR500123", "SLOW123456", "BIG1234567", "MOVED12345", "LIST123456"]
)
async def test_a_failing_endpoint_leads_to_on_error(
    container: Container, clock: FakeClock, api: ShopApi, order: str
) -> None:
    visitor = Visitor(container, clock)
    await visitor.say("查订单")
    assert await visitor.say(order) == f"抱歉，暂时查不到订单 {order}，请稍后再试或回复“人工”。"
    assert await visitor.flow_state() is None


async def test_two_messages_sent_at_once_are_stepped_in_turn(
    container: Container, clock: FakeClock, api: ShopApi
) -> None:
    """The second message's flow state is read after the first one's outcome committed."""
    visitor = Visitor(container, clock)
    first, second = await asyncio.gather(visitor.say("查订单"), visitor.say("A12345678"))
    assert first.startswith(ASKED)
    assert second == ANSWERED
    assert await visitor.flow_state() is None
    assert [call["order"] for call in api.received] == ["A12345678"]


async def test_the_flow_state_survives_a_restart(
    container: Container, clock: FakeClock, api: ShopApi, settings: Settings
) -> None:
    visitor = Visitor(container, clock)
    await visitor.say("查订单")
    async with open_container(settings, clock=clock) as restarted:
        visitor.container = restarted  # a new process: new pipeline, caches and HTTP client
        assert await visitor.say("A12345678") == ANSWERED


async def test_an_invalid_answer_is_asked_again_then_the_flow_gives_up(
    container: Container, clock: FakeClock, api: ShopApi
) -> None:
    visitor = Visitor(container, clock)
    await visitor.say("查订单")
    assert await visitor.say("不记得了") == "请输入订单号（字母和数字）。"
    assert await visitor.say("真的不记得") == "请输入订单号（字母和数字）。"
    assert "人工" in await visitor.say("还是不记得")
    assert await visitor.flow_state() is None
    assert api.received == []


async def test_a_cancel_word_ends_the_flow(
    container: Container, clock: FakeClock, api: ShopApi
) -> None:
    visitor = Visitor(container, clock)
    await visitor.say("查订单")
    assert await visitor.say("算了") == CANCELLED[0]
    assert await visitor.flow_state() is None
    assert await visitor.say("A12345678") != ANSWERED
    assert api.received == []


async def test_asking_for_a_person_mid_flow_hands_off_and_the_bot_goes_quiet(
    container: Container, clock: FakeClock, api: ShopApi
) -> None:
    visitor = Visitor(container, clock)
    await visitor.say("查订单")
    assert (await visitor.say("人工")).startswith(NOBODY_ZH)  # nobody online: said honestly
    assert await visitor.flow_state() is None
    assert visitor.last is not None
    async with container.store.transaction(readonly=True) as tx:
        conversation = await tx.conversations.get(visitor.last.conversation_id)
    assert conversation is not None
    assert conversation.state is ConversationState.WAITING
    assert ASKED not in await visitor.say("查订单")  # no flow while a person is awaited
    assert await visitor.flow_state() is None


async def test_after_the_timeout_a_reply_starts_fresh(
    container: Container, clock: FakeClock, api: ShopApi
) -> None:
    visitor = Visitor(container, clock)
    await visitor.say("查订单")
    clock.advance(timedelta(minutes=29))
    assert await visitor.say("让我找找") == "请输入订单号（字母和数字）。"
    clock.advance(timedelta(minutes=31))
    assert await visitor.say("A12345678") != ANSWERED
    assert await visitor.flow_state() is None
    assert api.received == []


async def test_opting_out_mid_flow_still_wins(
    container: Container, clock: FakeClock, api: ShopApi
) -> None:
    visitor = Visitor(container, clock)
    await visitor.say("查订单")
    assert await visitor.say("退订") == OPT_OUT_CONFIRM_ZH
    assert await visitor.flow_state() is None  # stop means stop: the flow is dropped too
    assert await visitor.say("A12345678") != ANSWERED
    assert api.received == []


async def test_a_private_endpoint_is_refused_unless_the_platform_allows_it(
    container: Container, clock: FakeClock, api: ShopApi, settings: Settings
) -> None:
    strict = replace(settings, allow_private_endpoints=False)
    async with open_container(strict, clock=clock) as guarded:
        visitor = Visitor(guarded, clock)
        await visitor.say("查订单")
        assert "查不到订单" in await visitor.say("A12345678")
    assert api.received == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # shared address space
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
    ],
)
def test_only_public_addresses_are_called_by_default(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


async def test_applying_again_changes_nothing_and_endpoint_secrets_are_sealed(
    container: Container, clock: FakeClock, api: ShopApi, tmp_path: Path
) -> None:
    again = await apply_approved(container, tmp_path / "shop.yaml", clock.now())
    assert not again.flows_changed
    async with container.store.transaction(readonly=True) as tx:
        tenant = await tx.tenants.get_by_slug("shop")
        assert tenant is not None
        stored = await tx.flows.definitions(tenant.id)
    assert stored is not None
    assert stored.endpoints_sealed is not None
    assert "shop-secret-token" not in stored.endpoints_sealed
    assert "shop-secret-token" in container.box.open(stored.endpoints_sealed)
    (tmp_path / "shop.yaml").write_text(
        "tenant: {slug: shop, name: 小店, industry: retail}\nflows: []\n", encoding="utf-8"
    )
    removed = await apply_approved(container, tmp_path / "shop.yaml", clock.now())
    assert removed.flows_changed
    assert not (await Visitor(container, clock, "v9").say("查订单")).startswith(ASKED)


@pytest.mark.parametrize("url", ["http://[::1", "http://exa mple.com/", "ftp://example.com/"])
async def test_a_malformed_or_foreign_url_is_a_failed_call_not_a_crash(url: str) -> None:
    transport = PinnedTransport(AddressPolicy(allow_private=True))
    async with httpx.AsyncClient(transport=transport) as http:
        result = await call_endpoint(
            http,
            EndpointSpec("orders", url),
            EndpointCall("orders", "order-status", (("order", "A1234567"),)),
            tenant="shop",
            contact_id="c1",
        )
    assert result == CallResult(ok=False)
