"""The /sim control endpoints, JSON errors, and the app's lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest

from kindbot.testing.wechat_api import Fault, WeChatSimulator, create_app

Message = MutableMapping[str, Any]


async def until_stalled(sim: WeChatSimulator) -> None:
    for _ in range(10_000):
        if sim.pending_timeouts:
            return
        await asyncio.sleep(0)
    raise AssertionError("no request stalled")


async def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert (body["errcode"], body["errmsg"]) == (0, "ok")
    return body


async def test_oa_flow_driven_over_http(client: httpx.AsyncClient, sim: WeChatSimulator) -> None:
    await ok(await client.post("/sim/oa/apps", json={"appid": "wx1", "secret": "s"}))
    params = {"grant_type": "client_credential", "appid": "wx1", "secret": "s"}
    access_token = (await client.get("/cgi-bin/token", params=params)).json()["access_token"]
    body = {"touser": "o1", "msgtype": "text", "text": {"content": "您好"}}

    async def send() -> int:
        url = "/cgi-bin/message/custom/send"
        response = await client.post(url, params={"access_token": access_token}, json=body)
        return int(response.json()["errcode"])

    assert await send() == 45015
    await ok(await client.post("/sim/oa/user_message", json={"appid": "wx1", "openid": "o1"}))
    assert await send() == 0
    await ok(await client.post("/sim/oa/unfollow", json={"appid": "wx1", "openid": "o1"}))
    assert await send() == 45015
    await ok(await client.post("/sim/oa/user_event", json={"appid": "wx1", "openid": "o1"}))
    assert await send() == 0
    sent = await ok(await client.get("/sim/oa/sent", params={"appid": "wx1"}))
    assert [m["payload"] for m in sent["messages"]] == [body, body]
    assert sent["messages"][0]["touser"] == "o1"
    calls = await ok(await client.get("/sim/oa/token_calls", params={"appid": "wx1"}))
    assert calls["calls"] == sim.token_calls("wx1") == 1


async def test_wecom_flow_driven_over_http(client: httpx.AsyncClient) -> None:
    await ok(await client.post("/sim/wecom/corps", json={"corpid": "ww", "corpsecret": "cs"}))
    await ok(await client.post("/sim/wecom/kf_accounts", json={"corpid": "ww", "open_kfid": "wk"}))
    said = await ok(
        await client.post(
            "/sim/wecom/customer_says",
            json={"corpid": "ww", "open_kfid": "wk", "external_userid": "wm", "text": "在吗"},
        )
    )
    got = await client.get("/cgi-bin/gettoken", params={"corpid": "ww", "corpsecret": "cs"})
    params = {"access_token": got.json()["access_token"]}
    page = await ok(await client.post("/cgi-bin/kf/sync_msg", params=params, json={}))
    assert [m["msgid"] for m in page["msg_list"]] == [said["msgid"]]
    reply = {"touser": "wm", "open_kfid": "wk", "msgtype": "text", "text": {"content": "在"}}
    await ok(await client.post("/cgi-bin/kf/send_msg", params=params, json=reply))
    sent = await ok(await client.get("/sim/wecom/sent", params={"corpid": "ww"}))
    assert [(m["touser"], m["payload"]) for m in sent["messages"]] == [("wm", reply)]


async def test_faults_driven_over_http(client: httpx.AsyncClient, sim: WeChatSimulator) -> None:
    fault = {"path_prefix": "/cgi-bin/gettoken", "fault": "http_500", "times": 2}
    assert (await ok(await client.post("/sim/faults", json=fault)))["pending"] == 2
    assert (await client.get("/cgi-bin/gettoken")).status_code == 500
    assert (await ok(await client.delete("/sim/faults")))["pending"] == 0
    assert (await client.get("/cgi-bin/gettoken")).json()["errcode"] == 41002
    stall = {"path_prefix": "/cgi-bin/gettoken", "fault": "timeout"}
    await ok(await client.post("/sim/faults", json=stall))
    pending = asyncio.create_task(client.get("/cgi-bin/gettoken"))
    await until_stalled(sim)
    assert (await ok(await client.post("/sim/faults/release")))["released"] == 1
    assert (await pending).json()["errcode"] == 41002


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "errcode"),
    [
        ("POST", "/sim/oa/apps", {"content": b"{not json"}, 400, 40000),
        ("POST", "/sim/oa/apps", {"json": ["appid"]}, 400, 40000),
        ("POST", "/sim/oa/apps", {"json": {"appid": "wx"}}, 400, 40010),
        ("POST", "/sim/oa/user_message", {"json": {"appid": "wx?", "openid": "o"}}, 404, 40400),
        ("GET", "/sim/oa/sent", {}, 400, 40010),
        ("GET", "/sim/wecom/sent", {"params": {"corpid": "ww?"}}, 404, 40400),
        ("POST", "/sim/faults", {"json": {"path_prefix": "/", "fault": "boom"}}, 400, 40010),
        ("POST", "/sim/faults", {"json": {"path_prefix": "/", "fault": "timeout", "times": 0}},
         400, 40010),
        ("POST", "/sim/faults", {"json": {"path_prefix": "/", "fault": "timeout", "times": "2"}},
         400, 40010),
        ("GET", "/no/such/route", {}, 404, 40400),
        ("GET", "/cgi-bin/unknown", {}, 404, 40400),
        ("GET", "/sim/oa/apps", {}, 405, 40500),
        ("GET", "/cgi-bin/message/custom/send", {}, 405, 40500),
    ],
)  # fmt: skip
async def test_refusals_are_json(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    errcode: int,
) -> None:
    response = await client.request(method, path, **kwargs)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errcode"] == errcode
    if status == 405:
        assert "allow" in response.headers


class Lifespan:
    """Drives an ASGI app's lifespan protocol (startup on enter, shutdown on exit)."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Lifespan:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.create_task(self._app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "lifespan.startup"})
        assert (await self._from_app.get())["type"] == "lifespan.startup.complete"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._to_app.put({"type": "lifespan.shutdown"})
        assert (await self._from_app.get())["type"] == "lifespan.shutdown.complete"
        assert self._task is not None
        await self._task


async def test_shutdown_ends_stalled_requests(sim: WeChatSimulator) -> None:
    sim.inject("/cgi-bin/token", Fault.TIMEOUT)
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        async with Lifespan(sim.app):
            pending = asyncio.create_task(client.get("/cgi-bin/token"))
            await until_stalled(sim)
        assert (await pending).status_code == 503
        async with Lifespan(sim.app):  # a restart accepts stalls again
            sim.inject("/cgi-bin/token", Fault.TIMEOUT)
            pending = asyncio.create_task(client.get("/cgi-bin/token"))
            await until_stalled(sim)
            sim.release_timeouts()
            assert (await pending).json()["errcode"] == 40002


def test_create_app_builds_a_fresh_app_for_a_simulator(sim: WeChatSimulator) -> None:
    assert create_app(sim) is not sim.app
