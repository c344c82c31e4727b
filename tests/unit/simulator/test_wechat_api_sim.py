"""Official Account side of the simulator: access tokens and customer-service sends."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import httpx
import pytest
from tests.support.clock import FakeClock

from kindbot.testing.wechat_api import WeChatSimulator

APPID, SECRET = "wx0123456789abcdef", "app-secret"
USER = "oUser-1"


@pytest.fixture(autouse=True)
def _registered(sim: WeChatSimulator) -> None:
    sim.add_oa_app(APPID, SECRET)
    sim.add_wecom_corp("ww-corp", "corp-secret")


async def get_token(client: httpx.AsyncClient, **overrides: str) -> httpx.Response:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, **overrides}
    return await client.get("/cgi-bin/token", params=params)


async def token(client: httpx.AsyncClient) -> str:
    body = (await get_token(client)).json()
    assert set(body) == {"access_token", "expires_in"}
    return str(body["access_token"])


async def stable(client: httpx.AsyncClient, *, force: bool | None = None) -> dict[str, object]:
    body: dict[str, object] = {"grant_type": "client_credential", "appid": APPID}
    body["secret"] = SECRET
    if force is not None:
        body["force_refresh"] = force
    response = await client.post("/cgi-bin/stable_token", json=body)
    result: dict[str, object] = response.json()
    return result


async def send(
    client: httpx.AsyncClient, access_token: str, body: Mapping[str, object] | None = None
) -> int:
    payload = body or {"touser": USER, "msgtype": "text", "text": {"content": "你好"}}
    response = await client.post(
        "/cgi-bin/message/custom/send", params={"access_token": access_token}, json=payload
    )
    assert response.status_code == 200
    result = response.json()
    assert result["errmsg"] == "ok" if result["errcode"] == 0 else "rid:" in result["errmsg"]
    return int(result["errcode"])


# access_token ---------------------------------------------------------------------------


async def test_token_is_issued_for_7200_s_and_counted(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    first = (await get_token(client)).json()
    second = (await get_token(client)).json()
    assert first["expires_in"] == 7200
    assert first["access_token"] != second["access_token"]
    assert sim.token_calls(APPID) == 2


@pytest.mark.parametrize(
    ("overrides", "errcode"),
    [
        ({"secret": "wrong"}, 40125),
        ({"appid": "wx-unknown"}, 40013),
        ({"grant_type": "password"}, 40002),
        ({"appid": ""}, 41002),
        ({"secret": ""}, 41004),
    ],
)
async def test_token_request_errors(
    client: httpx.AsyncClient, sim: WeChatSimulator, overrides: dict[str, str], errcode: int
) -> None:
    response = await get_token(client, **overrides)
    assert response.status_code == 200
    assert response.json()["errcode"] == errcode
    assert sim.token_calls(APPID) == 0


async def test_token_expires_after_7200_s(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    access_token = await token(client)
    sim.user_message(APPID, USER)
    clock.advance(timedelta(seconds=7199))
    assert await send(client, access_token) == 0
    clock.advance(timedelta(seconds=1))
    assert await send(client, access_token) == 42001


async def test_previous_token_stays_valid_5_minutes_after_a_refresh(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    old = await token(client)
    new = await token(client)
    sim.user_message(APPID, USER)
    clock.advance(timedelta(seconds=299))
    assert await send(client, old) == 0
    clock.advance(timedelta(seconds=1))
    assert await send(client, old) == 40001
    assert await send(client, new) == 0


async def test_token_check_mapping(client: httpx.AsyncClient, sim: WeChatSimulator) -> None:
    sim.user_message(APPID, USER)
    wecom = await client.get(
        "/cgi-bin/gettoken", params={"corpid": "ww-corp", "corpsecret": "corp-secret"}
    )
    assert await send(client, "") == 41001
    assert await send(client, "not-a-token") == 40014
    assert await send(client, "A" * 128) == 40001  # well-formed, never issued
    assert await send(client, wecom.json()["access_token"]) == 40001  # another API's token
    response = await client.post("/cgi-bin/message/custom/send", json={})
    assert response.json()["errcode"] == 41001


async def test_resetting_the_secret_revokes_tokens(
    client: httpx.AsyncClient, sim: WeChatSimulator
) -> None:
    access_token = await token(client)
    sim.user_message(APPID, USER)
    sim.add_oa_app(APPID, "new-secret")
    assert await send(client, access_token) == 40001
    assert (await get_token(client)).json()["errcode"] == 40125


async def test_daily_token_quota_resets_on_the_next_beijing_day(clock: FakeClock) -> None:
    sim = WeChatSimulator(clock=lambda: clock.now().timestamp(), token_daily_quota=3)
    sim.add_oa_app(APPID, SECRET)
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        for _ in range(2):
            await token(client)
        assert "access_token" in await stable(client)  # both endpoints share the quota
        assert (await get_token(client)).json()["errcode"] == 45009
        assert (await stable(client))["errcode"] == 45009
        assert sim.token_calls(APPID) == 3
        clock.advance(timedelta(hours=6))  # 18:00 → 00:00 Beijing time
        assert sim.token_calls(APPID) == 0
        await token(client)


# stable_token ---------------------------------------------------------------------------


async def test_stable_token_is_the_same_while_valid(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    first = await stable(client)
    clock.advance(timedelta(seconds=100))
    second = await stable(client)
    assert second["access_token"] == first["access_token"]
    assert (first["expires_in"], second["expires_in"]) == (7200, 7100)
    assert sim.token_calls(APPID) == 2


async def test_stable_token_is_renewed_5_minutes_before_expiry(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    first = await stable(client)
    clock.advance(timedelta(seconds=7200 - 301))
    assert (await stable(client))["access_token"] == first["access_token"]
    clock.advance(timedelta(seconds=1))
    renewed = await stable(client)
    assert renewed["access_token"] != first["access_token"]
    assert renewed["expires_in"] == 7200
    sim.user_message(APPID, USER)
    clock.advance(timedelta(seconds=299))
    assert await send(client, str(first["access_token"])) == 0  # keeps its last minutes
    clock.advance(timedelta(seconds=1))
    assert await send(client, str(first["access_token"])) == 42001


async def test_plain_token_calls_do_not_replace_the_stable_token(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    stable_token = str((await stable(client))["access_token"])
    await token(client)
    await token(client)
    clock.advance(timedelta(seconds=600))
    sim.user_message(APPID, USER)
    assert await send(client, stable_token) == 0


async def test_force_refresh_issues_a_new_token_and_is_capped(
    client: httpx.AsyncClient, sim: WeChatSimulator, clock: FakeClock
) -> None:
    old = str((await stable(client))["access_token"])
    forced = await stable(client, force=True)
    assert forced["access_token"] != old
    assert forced["expires_in"] == 7200
    sim.user_message(APPID, USER)
    clock.advance(timedelta(seconds=299))
    assert await send(client, old) == 0
    clock.advance(timedelta(seconds=1))
    assert await send(client, old) == 40001
    for _ in range(19):
        assert "access_token" in await stable(client, force=True)
    assert (await stable(client, force=True))["errcode"] == 45009
    latest = await stable(client, force=False)
    assert "access_token" in latest
    assert await send(client, str(latest["access_token"])) == 0


@pytest.mark.parametrize(
    "content", [b"not json", b"[1, 2]", b'{"grant_type": "client_credential", "force_refresh": 1}']
)
async def test_stable_token_rejects_malformed_bodies(
    client: httpx.AsyncClient, content: bytes
) -> None:
    response = await client.post("/cgi-bin/stable_token", content=content)
    assert response.json()["errcode"] == 47001
