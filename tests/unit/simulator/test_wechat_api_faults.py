"""Fault injection: HTTP 500, forced errcodes, and stalled (timing-out) requests."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from tests.support.clock import FakeClock

from kindbot.testing.wechat_api import Fault, WeChatSimulator

APPID, SECRET, USER = "wx-app", "secret", "oUser"
SEND = "/cgi-bin/message/custom/send"


@pytest.fixture(autouse=True)
def _registered(sim: WeChatSimulator) -> None:
    sim.add_oa_app(APPID, SECRET)
    sim.user_message(APPID, USER)


async def token(client: httpx.AsyncClient) -> str:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    return str((await client.get("/cgi-bin/token", params=params)).json()["access_token"])


async def send(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    body = {"touser": USER, "msgtype": "text", "text": {"content": "hi"}}
    return await client.post(SEND, params={"access_token": access_token}, json=body)


async def until_stalled(sim: WeChatSimulator, count: int = 1) -> None:
    for _ in range(10_000):
        if sim.pending_timeouts == count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"expected {count} stalled requests, got {sim.pending_timeouts}")


async def test_http_500_once_then_normal(client: httpx.AsyncClient, sim: WeChatSimulator) -> None:
    access_token = await token(client)
    sim.inject(SEND, Fault.HTTP_500)
    failed = await send(client, access_token)
    assert failed.status_code == 500
    assert (await send(client, access_token)).json()["errcode"] == 0
    assert len(sim.sent(APPID)) == 1


async def test_errcode_45009_is_not_processed(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    access_token = await token(client)
    sim.inject(SEND, Fault.ERRCODE_45009, times=2)
    assert [(await send(client, access_token)).json()["errcode"] for _ in range(3)] == [
        45009, 45009, 0
    ]  # fmt: skip
    assert len(sim.sent(APPID)) == 1


async def test_errcode_40001_forces_one_refresh_and_retry(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    access_token = await token(client)
    sim.inject(SEND, Fault.ERRCODE_40001)
    assert (await send(client, access_token)).json()["errcode"] == 40001
    assert (await send(client, await token(client))).json()["errcode"] == 0
    assert (await send(client, access_token)).json()["errcode"] == 0  # not revoked (grace)


async def test_faults_are_consumed_in_order_and_by_prefix(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    access_token = await token(client)
    sim.inject("/cgi-bin/message/", Fault.HTTP_500)
    sim.inject("/cgi-bin/", Fault.ERRCODE_45009)
    sim.inject("/cgi-bin/kf/", Fault.HTTP_500)
    assert (await send(client, access_token)).status_code == 500
    assert (await client.get("/sim/oa/sent", params={"appid": APPID})).status_code == 200
    assert (await send(client, access_token)).json()["errcode"] == 45009
    assert (await send(client, access_token)).json()["errcode"] == 0
    assert sim.state.faults.pending() == 1
    sim.clear_faults()
    assert sim.state.faults.pending() == 0


async def test_faults_on_token_endpoints_are_not_counted(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    sim.inject("/cgi-bin/token", Fault.ERRCODE_45009)
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    assert (await client.get("/cgi-bin/token", params=params)).json()["errcode"] == 45009
    assert sim.token_calls(APPID) == 0


def test_inject_validates_its_arguments(sim: WeChatSimulator) -> None:
    with pytest.raises(ValueError, match="start with"):
        sim.inject("cgi-bin", Fault.HTTP_500)
    with pytest.raises(ValueError, match="at least 1"):
        sim.inject("/cgi-bin", Fault.HTTP_500, times=0)
    with pytest.raises(ValueError, match="positive"):
        WeChatSimulator(timeout_seconds=0)


async def test_timeout_stalls_until_released_then_processes(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    access_token = await token(client)
    sim.inject(SEND, Fault.TIMEOUT)
    pending = asyncio.create_task(send(client, access_token))
    await until_stalled(sim)
    assert sim.sent(APPID) == []
    assert sim.release_timeouts() == 1
    assert (await pending).json()["errcode"] == 0
    assert len(sim.sent(APPID)) == 1
    assert sim.pending_timeouts == 0


async def test_timeout_when_the_client_gives_up_delivers_nothing(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    access_token = await token(client)
    sim.inject(SEND, Fault.TIMEOUT)
    pending = asyncio.create_task(send(client, access_token))
    await until_stalled(sim)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    assert sim.pending_timeouts == 0
    assert sim.sent(APPID) == []
    assert (await send(client, access_token)).json()["errcode"] == 0


async def test_timeout_ends_after_timeout_seconds(clock: FakeClock) -> None:
    sim = WeChatSimulator(clock=lambda: clock.now().timestamp(), timeout_seconds=0.01)
    sim.add_oa_app(APPID, SECRET)
    sim.user_message(APPID, USER)
    sim.inject(SEND, Fault.TIMEOUT)
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        access_token = await token(client)
        clock.advance(timedelta(seconds=1))
        assert (await send(client, access_token)).json()["errcode"] == 0  # slow, then served


async def test_aclose_answers_stalled_requests_with_503(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    access_token = await token(client)
    sim.inject(SEND, Fault.TIMEOUT, times=2)
    pending = [asyncio.create_task(send(client, access_token)) for _ in range(2)]
    await until_stalled(sim, 2)
    await sim.aclose()
    assert [(await task).status_code for task in pending] == [503, 503]
    sim.inject(SEND, Fault.TIMEOUT)
    assert (await send(client, access_token)).status_code == 503  # no stall after close
    assert sim.sent(APPID) == []
