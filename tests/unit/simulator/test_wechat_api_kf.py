"""WeCom side of the simulator: gettoken, kf/sync_msg paging and kf/send_msg."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from tests.support.clock import FakeClock

from kindbot.testing.wechat_api import KfSentMessage, UnknownAccountError, WeChatSimulator

CORPID, CORPSECRET, KFID, OTHER_KFID = "ww-corp", "kf-secret", "wk-main", "wk-other"
CUSTOMER = "wm-customer-1"


@pytest.fixture(autouse=True)
def _registered(sim: WeChatSimulator) -> None:
    sim.add_wecom_corp(CORPID, CORPSECRET)
    sim.add_kf_account(CORPID, KFID)
    sim.add_kf_account(CORPID, OTHER_KFID)
    sim.add_oa_app("wx-app", "oa-secret")


async def gettoken(client: httpx.AsyncClient, secret: str = CORPSECRET) -> dict[str, Any]:
    params = {"corpid": CORPID, "corpsecret": secret}
    response = await client.get("/cgi-bin/gettoken", params=params)
    body: dict[str, Any] = response.json()
    return body


async def token(client: httpx.AsyncClient) -> str:
    return str((await gettoken(client))["access_token"])


async def post(
    client: httpx.AsyncClient, path: str, access_token: str, body: dict[str, object]
) -> dict[str, Any]:
    response = await client.post(path, params={"access_token": access_token}, json=body)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    if result["errcode"] != 0:
        assert "hint: [" in str(result["errmsg"])
    return result


async def sync(client: httpx.AsyncClient, access_token: str, **fields: object) -> dict[str, Any]:
    return await post(client, "/cgi-bin/kf/sync_msg", access_token, {"token": "CB", **fields})


async def kf_send(client: httpx.AsyncClient, access_token: str, **fields: object) -> dict[str, Any]:
    body: dict[str, object] = {
        "touser": CUSTOMER, "open_kfid": KFID, "msgtype": "text", "text": {"content": "您好"},
    }  # fmt: skip
    return await post(client, "/cgi-bin/kf/send_msg", access_token, {**body, **fields})


# gettoken -------------------------------------------------------------------------------


async def test_gettoken_returns_the_same_token_while_valid(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    first = await gettoken(client)
    assert (first["errcode"], first["errmsg"], first["expires_in"]) == (0, "ok", 7200)
    clock.advance(timedelta(seconds=7199))
    second = await gettoken(client)
    assert (second["access_token"], second["expires_in"]) == (first["access_token"], 1)
    clock.advance(timedelta(seconds=1))
    third = await gettoken(client)
    assert third["access_token"] != first["access_token"]
    assert sim.gettoken_calls(CORPID) == 3
    sim.customer_says(CORPID, KFID, CUSTOMER, "hi")
    assert (await kf_send(client, str(first["access_token"])))["errcode"] == 42001
    assert (await kf_send(client, str(third["access_token"])))["errcode"] == 0


async def test_gettoken_caches_per_secret(client: httpx.AsyncClient, sim: WeChatSimulator) -> None:
    sim.add_wecom_corp(CORPID, "agent-secret")
    assert await token(client) != str((await gettoken(client, "agent-secret"))["access_token"])


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"corpid": CORPID, "corpsecret": "wrong"}, 40001),
        ({"corpid": "ww-unknown", "corpsecret": CORPSECRET}, 40013),
        ({"corpsecret": CORPSECRET}, 41002),
        ({"corpid": CORPID}, 41004),
    ],
)
async def test_gettoken_errors(
    client: httpx.AsyncClient, params: dict[str, str], errcode: int
) -> None:
    assert (await client.get("/cgi-bin/gettoken", params=params)).json()["errcode"] == errcode


async def test_wecom_token_check_mapping(client: httpx.AsyncClient) -> None:
    oa = await client.get(
        "/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": "wx-app", "secret": "oa-secret"},
    )
    assert (await sync(client, ""))["errcode"] == 41001
    assert (await sync(client, "bogus"))["errcode"] == 40014
    assert (await sync(client, "B" * 128))["errcode"] == 40014
    assert (await sync(client, oa.json()["access_token"]))["errcode"] == 40014


# sync_msg -------------------------------------------------------------------------------


async def test_sync_pages_with_cursors(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    access_token = await token(client)
    ids = [sim.customer_says(CORPID, KFID, f"wm-{i}", f"问题 {i}") for i in range(5)]
    pages: list[dict[str, Any]] = []
    cursor: object = None
    for _ in range(3):
        fields: dict[str, object] = {"limit": 2, "open_kfid": KFID}
        if cursor is not None:
            fields["cursor"] = cursor
        page = await sync(client, access_token, **fields)
        pages.append(page)
        cursor = page["next_cursor"]
        assert isinstance(cursor, str)
        assert cursor
    got = [[m["msgid"] for m in p["msg_list"]] for p in pages]
    assert got == [ids[0:2], ids[2:4], ids[4:5]]
    assert [p["has_more"] for p in pages] == [1, 1, 0]
    assert pages[0]["msg_list"][0] == {
        "msgid": ids[0],
        "open_kfid": KFID,
        "external_userid": "wm-0",
        "send_time": int(clock.now().timestamp()),
        "origin": 3,
        "msgtype": "text",
        "text": {"content": "问题 0"},
    }
    empty = await sync(client, access_token, cursor=cursor, open_kfid=KFID)
    assert (empty["msg_list"], empty["has_more"]) == ([], 0)
    later = sim.customer_says(CORPID, KFID, "wm-9", "还在吗")
    resumed = await sync(client, access_token, cursor=empty["next_cursor"], open_kfid=KFID)
    assert [m["msgid"] for m in resumed["msg_list"]] == [later]


async def test_sync_narrows_to_one_kf_account(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    access_token = await token(client)
    mine = sim.customer_says(CORPID, KFID, CUSTOMER, "a")
    other = sim.customer_says(CORPID, OTHER_KFID, CUSTOMER, "b")
    narrowed = await sync(client, access_token, open_kfid=OTHER_KFID)
    assert [m["msgid"] for m in narrowed["msg_list"]] == [other]
    everything = await sync(client, access_token)
    assert [m["msgid"] for m in everything["msg_list"]] == [mine, other]
    foreign = await sync(client, access_token, open_kfid=KFID, cursor=narrowed["next_cursor"])
    assert foreign["errcode"] == 40058


@pytest.mark.parametrize(
    ("fields", "errcode"),
    [
        ({"limit": 1001}, 40058),
        ({"limit": 0}, 40058),
        ({"limit": "10"}, 40058),
        ({"limit": True}, 40058),
        ({"cursor": "no-such-cursor"}, 40058),
        ({"open_kfid": "wk-unknown"}, 95004),
    ],
)
async def test_sync_rejects_bad_parameters(
    client: httpx.AsyncClient, fields: dict[str, object], errcode: int
) -> None:
    assert (await sync(client, await token(client), **fields))["errcode"] == errcode


async def test_sync_accepts_limit_1000_and_rejects_non_json(client: httpx.AsyncClient) -> None:
    access_token = await token(client)
    assert (await sync(client, access_token, limit=1000))["errcode"] == 0
    response = await client.post(
        "/cgi-bin/kf/sync_msg", params={"access_token": access_token}, content=b"nope"
    )
    assert response.json()["errcode"] == 40058


# send_msg -------------------------------------------------------------------------------


async def test_send_allows_5_messages_within_48_h_of_the_customer(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    access_token = await token(client)
    assert (await kf_send(client, access_token))["errcode"] == 95018  # never spoke
    sim.customer_says(CORPID, KFID, CUSTOMER, "在吗")
    results = [await kf_send(client, access_token) for _ in range(6)]
    assert [r["errcode"] for r in results] == [0, 0, 0, 0, 0, 95001]
    assert all(isinstance(r["msgid"], str) and r["msgid"] for r in results[:5])
    assert (await kf_send(client, access_token, open_kfid=OTHER_KFID))["errcode"] == 95018
    sim.customer_says(CORPID, KFID, CUSTOMER, "再问一个")
    clock.advance(timedelta(hours=48) - timedelta(seconds=1))
    assert (await kf_send(client, await token(client)))["errcode"] == 0
    clock.advance(timedelta(seconds=1))
    assert (await kf_send(client, await token(client)))["errcode"] == 95018


async def test_send_is_idempotent_on_client_msgid(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    access_token = await token(client)
    sim.customer_says(CORPID, KFID, CUSTOMER, "在吗")
    first = await kf_send(client, access_token, msgid="reply-1")
    again = await kf_send(client, access_token, msgid="reply-1")
    assert first == again == {"errcode": 0, "errmsg": "ok", "msgid": "reply-1"}
    assert [m.msgid for m in sim.kf_sent(CORPID)] == ["reply-1"]
    assert [(await kf_send(client, access_token))["errcode"] for _ in range(5)] == [0] * 4 + [95001]
    assert (await kf_send(client, access_token, msgid="reply-1"))["errcode"] == 0
    clock.advance(timedelta(hours=49))
    assert (await kf_send(client, await token(client), msgid="reply-1"))["errcode"] == 0
    sent = sim.kf_sent(CORPID)
    assert len(sent) == 5
    assert sent[0] == KfSentMessage(
        open_kfid=KFID,
        touser=CUSTOMER,
        msgid="reply-1",
        msgtype="text",
        payload_json=(
            '{"msgid":"reply-1","msgtype":"text","open_kfid":"wk-main",'
            '"text":{"content":"您好"},"touser":"wm-customer-1"}'
        ),
        at=sent[0].at,
    )


async def test_refused_sends_are_not_remembered_for_idempotency(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    access_token = await token(client)
    assert (await kf_send(client, access_token, msgid="m-1"))["errcode"] == 95018
    sim.customer_says(CORPID, KFID, CUSTOMER, "hi")
    assert (await kf_send(client, access_token, msgid="m-1"))["errcode"] == 0
    assert len(sim.kf_sent(CORPID)) == 1


@pytest.mark.parametrize(
    ("fields", "errcode"),
    [
        ({"open_kfid": "wk-unknown"}, 95004),
        ({"touser": ""}, 40058),
        ({"open_kfid": None}, 40058),
        ({"msgid": "has space"}, 40058),
        ({"msgid": "x" * 33}, 40058),
        ({"msgtype": "sticker"}, 40008),
        ({"text": {"content": ""}}, 44004),
        ({"text": "plain"}, 40058),
    ],
)
async def test_send_validation(
    client: httpx.AsyncClient, sim: WeChatSimulator, fields: dict[str, object], errcode: int
) -> None:
    sim.customer_says(CORPID, KFID, CUSTOMER, "hi")
    assert (await kf_send(client, await token(client), **fields))["errcode"] == errcode
    assert sim.kf_sent(CORPID) == []


def test_control_methods_refuse_unknown_accounts(sim: WeChatSimulator) -> None:
    with pytest.raises(UnknownAccountError):
        sim.customer_says(CORPID, "wk-unknown", CUSTOMER, "hi")
    with pytest.raises(UnknownAccountError):
        sim.add_kf_account("ww-unknown", KFID)
    with pytest.raises(UnknownAccountError):
        sim.kf_sent("ww-unknown")
    with pytest.raises(UnknownAccountError):
        sim.user_message("wx-unknown", "o")
