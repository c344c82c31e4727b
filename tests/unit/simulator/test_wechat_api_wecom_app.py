"""WeCom app side of the simulator: message/send to members and send_welcome_msg."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from tests.support.clock import FakeClock

from kindbot.testing.wechat_api import UnknownAccountError, WeChatSimulator

CORPID, SECRET, AGENT = "ww-corp", "app-secret", 1000002


@pytest.fixture(autouse=True)
def _registered(sim: WeChatSimulator) -> None:
    sim.add_wecom_corp(CORPID, SECRET)
    sim.add_wecom_member(CORPID, "zhangsan")
    sim.add_wecom_member(CORPID, "lisi")


async def call(client: httpx.AsyncClient, path: str, body: dict[str, object]) -> dict[str, Any]:
    params = {"corpid": CORPID, "corpsecret": SECRET}
    token = (await client.get("/cgi-bin/gettoken", params=params)).json()["access_token"]
    response = await client.post(path, params={"access_token": token}, json=body)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def text(touser: str, content: str = "您好", agentid: object = AGENT) -> dict[str, object]:
    return {"touser": touser, "msgtype": "text", "agentid": agentid, "text": {"content": content}}


async def test_app_messages_reach_members_and_name_the_invalid_ones(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    ok = await call(client, "/cgi-bin/message/send", text("zhangsan|ghost"))
    assert (ok["errcode"], ok["invaliduser"]) == (0, "ghost")
    assert [(m.agentid, m.touser) for m in sim.app_sent(CORPID)] == [(AGENT, "zhangsan")]
    none = await call(client, "/cgi-bin/message/send", text("ghost"))
    assert none["errcode"] == 81013


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        (text("zhangsan", agentid="1"), 40056),
        (text("zhangsan", content=""), 44004),
        ({**text("zhangsan"), "msgtype": "hologram"}, 40008),
        ({**text("zhangsan"), "touser": ""}, 40058),
    ],
)
async def test_app_message_refusals(
    client: httpx.AsyncClient, body: dict[str, object], errcode: int
) -> None:
    assert (await call(client, "/cgi-bin/message/send", body))["errcode"] == errcode


async def test_a_member_gets_at_most_30_app_messages_a_minute_the_rest_is_dropped(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    for _ in range(31):
        assert (await call(client, "/cgi-bin/message/send", text("lisi")))["errcode"] == 0
    assert (len(sim.app_sent(CORPID)), sim.state.wecom_apps.dropped(CORPID)) == (30, 1)
    clock.advance(timedelta(seconds=61))
    await call(client, "/cgi-bin/message/send", text("lisi"))
    assert len(sim.app_sent(CORPID)) == 31


async def test_a_welcome_code_works_once_within_20_seconds(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    code = sim.customer_added(CORPID, "zhangsan", "wmNew")
    body: dict[str, object] = {"welcome_code": code, "text": {"content": "欢迎"}}
    path = "/cgi-bin/externalcontact/send_welcome_msg"
    assert (await call(client, path, body))["errcode"] == 0
    assert (await call(client, path, body))["errcode"] == 41051
    late = sim.customer_added(CORPID, "zhangsan", "wmLate")
    clock.advance(timedelta(seconds=21))
    assert (await call(client, path, {**body, "welcome_code": late}))["errcode"] == 40058
    assert (await call(client, path, {**body, "welcome_code": "nope"}))["errcode"] == 40058
    fresh = sim.customer_added(CORPID, "zhangsan", "wmEmpty")
    empty: dict[str, object] = {"welcome_code": fresh, "text": {"content": ""}}
    assert (await call(client, path, empty))["errcode"] == 44004
    assert [(w.external_userid, w.content) for w in sim.welcomes_sent(CORPID)] == [
        ("wmNew", "欢迎")
    ]


async def test_control_routes_drive_members_and_welcomes(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    added = await client.post("/sim/wecom/members", json={"corpid": CORPID, "userid": "wangwu"})
    assert added.status_code == 200
    await call(client, "/cgi-bin/message/send", text("wangwu"))
    sent = (await client.get("/sim/wecom/app_sent", params={"corpid": CORPID})).json()
    assert [m["touser"] for m in sent["messages"]] == ["wangwu"]
    issued = await client.post(
        "/sim/wecom/customer_added",
        json={"corpid": CORPID, "userid": "wangwu", "external_userid": "wmX"},
    )
    code = issued.json()["welcome_code"]
    body: dict[str, object] = {"welcome_code": code, "text": {"content": "hi"}}
    await call(client, "/cgi-bin/externalcontact/send_welcome_msg", body)
    welcomes = (await client.get("/sim/wecom/welcomes", params={"corpid": CORPID})).json()
    assert [m["external_userid"] for m in welcomes["messages"]] == ["wmX"]
    unknown = await client.post("/sim/wecom/members", json={"corpid": "nope", "userid": "x"})
    assert unknown.status_code == 404
    with pytest.raises(UnknownAccountError):
        sim.customer_added("nope", "u", "wm")
