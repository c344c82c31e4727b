"""The Official Account API client against the WeChat API simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tests.support.clock import FakeClock
from tests.support.live import serve_app

from kindbot.bootstrap import Container
from kindbot.channels.wechat_oa.api import (
    NewsArticle,
    OAApiConfig,
    OAClient,
    image_payload,
    news_payload,
    outcome_for,
    text_payload,
)
from kindbot.core.events import DeliveryStatus
from kindbot.pipeline.deliver.tokens import AccessTokens
from kindbot.testing.wechat_api import Fault, WeChatSimulator

APP_ID = "wx0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("errcode", "status"),
    [
        (0, DeliveryStatus.DELIVERED),
        (45015, DeliveryStatus.FAILED),
        (45047, DeliveryStatus.FAILED),
        (45009, DeliveryStatus.RETRY),
        (-1, DeliveryStatus.RETRY),
        (40003, DeliveryStatus.FAILED),
    ],
)
def test_error_codes_map_to_delivery_outcomes(errcode: int, status: DeliveryStatus) -> None:
    assert outcome_for(errcode, "msg").status is status


@pytest.fixture
async def client_and_sim(
    container: Container, clock: FakeClock
) -> AsyncIterator[tuple[OAClient, WeChatSimulator]]:
    sim = WeChatSimulator(clock=lambda: clock.now().timestamp())
    sim.add_oa_app(APP_ID, SECRET)
    async with serve_app(sim.app) as base, httpx.AsyncClient() as http:
        async with container.store.transaction() as tx:
            tenant = await tx.tenants.get_by_slug("teashop")
        assert tenant is not None
        client = OAClient(
            http,
            AccessTokens(container.store, clock),
            OAApiConfig(APP_ID, SECRET, base),
            tenant_id=tenant.id,
            now=clock.now(),
        )
        yield client, sim
        await sim.aclose()


async def test_text_image_and_news_inside_the_window(
    client_and_sim: tuple[OAClient, WeChatSimulator],
) -> None:
    client, sim = client_and_sim
    sim.user_message(APP_ID, "o1")
    article = NewsArticle(
        "新茶上市", "明前龙井", "https://shop.example/longjing", "https://shop.example/p.jpg"
    )
    outcomes = [
        await client.send(text_payload("o1", "您好")),
        await client.send(image_payload("o1", "MEDIA_ID")),
        await client.send(news_payload("o1", article)),
    ]
    assert [o.status for o in outcomes] == [DeliveryStatus.DELIVERED] * 3
    assert [m.msgtype for m in sim.sent(APP_ID)] == ["text", "image", "news"]


async def test_window_rules_come_back_as_failures_not_retries(
    client_and_sim: tuple[OAClient, WeChatSimulator], clock: FakeClock
) -> None:
    client, sim = client_and_sim
    closed = await client.send(text_payload("stranger", "hi"))
    sim.user_message(APP_ID, "o2")
    for _ in range(5):
        assert (await client.send(text_payload("o2", "x"))).status is DeliveryStatus.DELIVERED
    sixth = await client.send(text_payload("o2", "x"))
    assert closed.status is DeliveryStatus.FAILED
    assert "45015" in closed.detail
    assert sixth.status is DeliveryStatus.FAILED
    assert "45047" in sixth.detail


async def test_a_rejected_token_is_refreshed_once_and_the_send_retried(
    client_and_sim: tuple[OAClient, WeChatSimulator],
) -> None:
    client, sim = client_and_sim
    sim.user_message(APP_ID, "o3")
    sim.inject("/cgi-bin/message/custom/send", Fault.ERRCODE_40001)
    outcome = await client.send(text_payload("o3", "hello"))
    assert outcome.status is DeliveryStatus.DELIVERED
    assert len(sim.sent(APP_ID)) == 1
    assert sim.token_calls(APP_ID) == 2


async def test_api_quota_and_server_errors_are_retried_later(
    client_and_sim: tuple[OAClient, WeChatSimulator],
) -> None:
    client, sim = client_and_sim
    sim.user_message(APP_ID, "o4")
    sim.inject("/cgi-bin/message/custom/send", Fault.ERRCODE_45009)
    sim.inject("/cgi-bin/message/custom/send", Fault.HTTP_500)
    quota = await client.send(text_payload("o4", "x"))
    server = await client.send(text_payload("o4", "x"))
    assert quota.status is DeliveryStatus.RETRY
    assert server.status is DeliveryStatus.RETRY
    assert sim.sent(APP_ID) == []
