"""Fixtures for the WeChat API simulator tests: a fake clock, a simulator, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tests.support.clock import FakeClock

from kindbot.testing.wechat_api import WeChatSimulator


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()  # 2026-11-25 10:00 UTC = 18:00 Beijing


@pytest.fixture
def sim(clock: FakeClock) -> WeChatSimulator:
    return WeChatSimulator(clock=lambda: clock.now().timestamp(), timeout_seconds=5.0)


@pytest.fixture
async def client(sim: WeChatSimulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        yield http
