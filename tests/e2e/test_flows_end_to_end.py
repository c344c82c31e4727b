"""Flows end to end: the web chat over a real server, and ``kindbot chat`` as a user
runs it (in this process: tests/support/cli.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from tests.support.cli import kindbot_in_thread
from tests.support.clock import FakeClock
from tests.support.live import live_server
from tests.support.shop_api import order_bundle, shop_api
from tests.support.tenants import apply_approved
from websockets.asyncio.client import connect

from kindbot.bootstrap import Container
from kindbot.channels.webchat import VISITOR_COOKIE
from kindbot.settings import Settings

DEMO_BUNDLE = Path(__file__).parents[2] / "src" / "kindbot" / "demo" / "bundle.yaml"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The platform lets these tests' flows call the loopback test server."""
    return replace(settings, allow_private_endpoints=True)


@pytest.fixture
async def base_url(container: Container) -> AsyncIterator[str]:
    async with live_server(container) as url:
        yield url


async def test_the_demo_callback_flow_over_the_web_chat_socket(
    base_url: str, clock: FakeClock
) -> None:
    chat = "/chat/teashop.web"
    async with httpx.AsyncClient(base_url=base_url) as client:
        assert (await client.get(chat)).status_code == 200
        cookie = f"{VISITOR_COOKIE}={client.cookies[VISITOR_COOKIE]}"
        replies = []
        ws_url = base_url.replace("http", "ws", 1) + chat + "/ws"
        async with connect(ws_url, additional_headers={"Cookie": cookie}) as socket:
            for i, text in enumerate(["可以给我回电吗", "138-0013-8000", "明天", "2"]):
                await socket.send(
                    json.dumps({"type": "message", "text": text, "client_id": f"c{i}"})
                )
                echo = json.loads(await socket.recv())
                assert echo["message"]["direction"] == "inbound"
                replies.append(json.loads(await socket.recv())["message"]["text"])
    assert replies[0].startswith("好的，我们安排茶艺顾问给您回电。请留下您的手机号")
    assert replies[1].startswith("哪天方便？")
    assert replies[2].startswith("上午还是下午？")
    assert replies[3] == "已记下：2026-11-26 下午，茶艺顾问会打给您留下的号码。感谢您的耐心！"


async def test_the_order_flow_over_the_web_chat_post_route(
    container: Container, clock: FakeClock, tmp_path: Path, base_url: str
) -> None:
    async with shop_api() as api:
        bundle = tmp_path / "shop.yaml"
        bundle.write_text(order_bundle(api.url), encoding="utf-8")
        await apply_approved(container, bundle, clock.now())
        chat = "/chat/shop.web"
        async with httpx.AsyncClient(base_url=base_url) as client:
            await client.get(chat)
            texts = []
            for i, text in enumerate(["where is my order", "SO20261125001"]):
                body = {"text": text, "client_id": f"p{i}"}
                messages = (await client.post(chat + "/messages", json=body)).json()["messages"]
                texts.append(messages[-1]["text"])
    assert texts[0].startswith("What is your order number?")
    assert texts[1] == "Order SO20261125001: 已发货."
    assert [r["order"] for r in api.received] == ["SO20261125001"]


async def run_kindbot(
    *args: str, data_dir: Path, stdin: str = "", check: bool = True, **env: str
) -> str:
    """Run ``kindbot`` without blocking the loop (the test server keeps serving).

    ``check=False``: a failure is expected; returns stdout and stderr together.
    """
    result = await kindbot_in_thread(*args, data_dir=data_dir, input=stdin, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    if not check:
        assert result.returncode != 0
        return result.stdout + result.stderr
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result.stdout


def bot_messages(stdout: str) -> list[str]:
    return [part.strip() for part in stdout.split("bot> ")[1:]]


async def test_kindbot_chat_runs_the_demo_flow(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    await run_kindbot("apply", str(DEMO_BUNDLE), data_dir=data_dir)
    await run_kindbot("tenant", "approve", "teashop", "--reason", "e2e", data_dir=data_dir)
    said = "请给我回电\n我没有手机\n13800138000\n明天\n上午\n运费多少钱\n"
    replies = bot_messages(
        await run_kindbot("chat", "--tenant", "teashop", data_dir=data_dir, stdin=said)
    )
    tomorrow = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).date()
    assert replies[0].startswith("好的，我们安排茶艺顾问给您回电。")
    assert replies[1] == "请输入 11 位手机号码，例如 13800138000。"
    assert replies[2].startswith("哪天方便？")
    assert replies[3].startswith("上午还是下午？")
    assert replies[4].startswith(f"已记下：{tomorrow.isoformat()} 上午")
    assert "99" in replies[5]  # after the flow, the knowledge base answers again


async def test_kindbot_chat_runs_a_flow_that_calls_an_endpoint(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with shop_api() as api:
        bundle = tmp_path / "shop.yaml"
        bundle.write_text(order_bundle(api.url), encoding="utf-8")
        refused_apply = await run_kindbot("apply", str(bundle), data_dir=data_dir, check=False)
        assert "not a public address" in refused_apply  # the endpoint is on 127.0.0.1
        applied = await run_kindbot(
            "apply", str(bundle), data_dir=data_dir, KINDBOT_ALLOW_PRIVATE_ENDPOINTS="1"
        )
        assert "flows: updated" in applied
        await run_kindbot("tenant", "approve", "shop", "--reason", "e2e", data_dir=data_dir)
        out = await run_kindbot(
            "chat",
            "--tenant",
            "shop",
            data_dir=data_dir,
            stdin="查订单\nA12345678\n",
            KINDBOT_ALLOW_PRIVATE_ENDPOINTS="1",
        )
        refused = await run_kindbot(
            "chat",
            "--tenant",
            "shop",
            "--user",
            "bob",
            data_dir=data_dir,
            stdin="查订单\nB12345678\n",
        )
    replies = bot_messages(out)
    assert replies[0].startswith("请告诉我订单号。")
    assert replies[1] == "订单 A12345678：已发货，顺丰，预计 12月1日。"
    assert bot_messages(refused)[1].startswith("抱歉，暂时查不到订单 B12345678")
    assert [r["order"] for r in api.received] == ["A12345678"]  # bob's call was never made
