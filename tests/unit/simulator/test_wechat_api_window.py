"""Official Account customer-service sends: the 48 h / 1 min windows and their quotas."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import timedelta

import httpx
import pytest
from tests.support.clock import FakeClock

from kindbot.testing.wechat_api import SentMessage, WeChatSimulator

APPID, SECRET = "wx0123456789abcdef", "app-secret"
USER = "oUser-1"


@pytest.fixture(autouse=True)
def _registered(sim: WeChatSimulator) -> None:
    sim.add_oa_app(APPID, SECRET)


async def token(client: httpx.AsyncClient) -> str:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    return str((await client.get("/cgi-bin/token", params=params)).json()["access_token"])


async def send(
    client: httpx.AsyncClient, access_token: str, body: Mapping[str, object] | None = None
) -> int:
    payload = body or {"touser": USER, "msgtype": "text", "text": {"content": "你好"}}
    response = await client.post(
        "/cgi-bin/message/custom/send", params={"access_token": access_token}, json=payload
    )
    assert response.status_code == 200
    return int(response.json()["errcode"])


async def test_five_messages_within_48_h_of_a_user_message(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    access_token = await token(client)
    sim.user_message(APPID, USER)
    assert [await send(client, access_token) for _ in range(6)] == [0, 0, 0, 0, 0, 45047]
    sent = sim.sent(APPID)
    assert len(sent) == 5
    assert sent[0] == SentMessage(
        touser=USER,
        msgtype="text",
        payload_json='{"msgtype":"text","text":{"content":"你好"},"touser":"oUser-1"}',
        at=clock.now().timestamp(),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        sent[0].touser = "x"  # type: ignore[misc]


async def test_a_new_user_message_opens_a_fresh_window(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    access_token = await token(client)
    sim.user_message(APPID, USER)
    for _ in range(5):
        await send(client, access_token)
    sim.user_message(APPID, USER)
    assert [await send(client, access_token) for _ in range(6)] == [0, 0, 0, 0, 0, 45047]


async def test_window_closes_after_48_h(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    sim.user_message(APPID, USER)
    clock.advance(timedelta(hours=48) - timedelta(seconds=1))
    assert await send(client, await token(client)) == 0
    clock.advance(timedelta(seconds=1))
    assert await send(client, await token(client)) == 45015


async def test_menu_click_allows_3_messages_within_a_minute(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    access_token = await token(client)
    sim.user_event(APPID, USER)
    clock.advance(timedelta(seconds=30))
    assert [await send(client, access_token) for _ in range(4)] == [0, 0, 0, 45047]
    clock.advance(timedelta(seconds=31))
    assert await send(client, access_token) == 45015


async def test_event_grant_adds_to_an_open_message_window(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    access_token = await token(client)
    sim.user_message(APPID, USER)
    for _ in range(5):
        await send(client, access_token)
    sim.user_event(APPID, USER)
    assert [await send(client, access_token) for _ in range(4)] == [0, 0, 0, 45047]


async def test_unfollowed_and_unknown_users_are_outside_the_window(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    access_token = await token(client)
    sim.user_message(APPID, USER)
    sim.unfollow(APPID, USER)
    assert await send(client, access_token) == 45015
    stranger = {"touser": "oStranger", "msgtype": "text", "text": {"content": "hi"}}
    assert await send(client, access_token, stranger) == 45015
    sim.user_event(APPID, USER)  # followed again
    assert await send(client, access_token) == 0


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"msgtype": "text", "text": {"content": "hi"}}, 40003),
        ({"touser": USER, "msgtype": "sticker", "sticker": {}}, 40008),
        ({"touser": USER, "msgtype": "text", "text": "hi"}, 47001),
        ({"touser": USER, "msgtype": "text", "text": {"content": ""}}, 44004),
    ],
)
async def test_custom_send_validation(
    client: httpx.AsyncClient, sim: WeChatSimulator, body: dict[str, object], errcode: int
) -> None:
    sim.user_message(APPID, USER)
    assert await send(client, await token(client), body) == errcode
    assert sim.sent(APPID) == []


async def test_custom_send_accepts_other_types_and_rejects_non_json(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    access_token = await token(client)
    sim.user_message(APPID, USER)
    image = {"touser": USER, "msgtype": "image", "image": {"media_id": "MEDIA"}}
    assert await send(client, access_token, image) == 0
    response = await client.post(
        "/cgi-bin/message/custom/send", params={"access_token": access_token}, content=b"{"
    )
    assert response.json()["errcode"] == 47001
    assert json.loads(sim.sent(APPID)[0].payload_json) == image
