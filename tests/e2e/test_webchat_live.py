"""The web chat channel over a real server: cookie, WebSocket, POST fallback, history."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from tests.support.live import live_server
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from kindbot.bootstrap import Container
from kindbot.channels.webchat import VISITOR_COOKIE

CHAT = "/chat/teashop.web"


@pytest.fixture
async def base_url(container: Container) -> AsyncIterator[str]:
    async with live_server(container) as url:
        yield url


@asynccontextmanager
async def visitor_client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client that opened the chat page and so holds a visitor cookie."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        page = await client.get(CHAT)
        assert page.status_code == 200
        assert 'id="messages"' in page.text
        yield client


async def test_page_sets_an_httponly_visitor_cookie_scoped_to_the_channel(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        page = await client.get(CHAT)
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{VISITOR_COOKIE}=")
    assert "HttpOnly" in cookie
    assert f"Path={CHAT}" in cookie


async def test_websocket_echo_then_reply_then_history(base_url: str) -> None:
    async with visitor_client(base_url) as client:
        cookie = f"{VISITOR_COOKIE}={client.cookies[VISITOR_COOKIE]}"
        ws_url = base_url.replace("http", "ws", 1) + CHAT + "/ws"
        async with connect(ws_url, additional_headers={"Cookie": cookie}) as socket:
            await socket.send(
                json.dumps({"type": "message", "text": "怎么泡绿茶", "client_id": "c1"})
            )
            echo = json.loads(await socket.recv())
            reply = json.loads(await socket.recv())
        history = (await client.get(CHAT + "/history")).json()["messages"]

    assert echo["client_id"] == "c1"
    assert echo["message"]["direction"] == "inbound"
    assert reply["message"]["direction"] == "outbound"
    assert "80℃" in reply["message"]["text"]
    assert [m["id"] for m in history] == [echo["message"]["id"], reply["message"]["id"]]


async def test_websocket_reports_bad_frames_and_keeps_going(base_url: str) -> None:
    async with visitor_client(base_url) as client:
        cookie = f"{VISITOR_COOKIE}={client.cookies[VISITOR_COOKIE]}"
        ws_url = base_url.replace("http", "ws", 1) + CHAT + "/ws"
        async with connect(ws_url, additional_headers={"Cookie": cookie}) as socket:
            await socket.send("{not json")
            error = json.loads(await socket.recv())
            await socket.send(json.dumps({"type": "message", "text": "", "client_id": "c2"}))
            empty = json.loads(await socket.recv())
            await socket.send(json.dumps({"type": "message", "text": "发票", "client_id": "c3"}))
            echo = json.loads(await socket.recv())

    assert error == {"type": "error", "code": "invalid_json", "message": error["message"]}
    assert empty["code"] == "invalid_field"
    assert echo["client_id"] == "c3"


async def test_post_fallback_and_resubmit_is_idempotent(base_url: str) -> None:
    async with visitor_client(base_url) as client:
        body = {"text": "可以退货吗", "client_id": "same"}
        first = (await client.post(CHAT + "/messages", json=body)).json()["messages"]
        again = (await client.post(CHAT + "/messages", json=body)).json()["messages"]
        history = (await client.get(CHAT + "/history")).json()["messages"]

    assert [m["direction"] for m in first] == ["inbound", "outbound"]
    assert [m["id"] for m in again] == [m["id"] for m in first]
    assert len(history) == 2


async def test_without_cookie_history_is_empty_and_posting_is_refused(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        history = await client.get(CHAT + "/history")
        post = await client.post(CHAT + "/messages", json={"text": "hi"})
    assert history.json() == {"messages": []}
    assert post.status_code == 400
    assert post.json()["error"]["code"] == "no_visitor"


async def test_info_names_the_shop(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        info = (await client.get(CHAT + "/info")).json()
        missing = await client.get("/chat/teashop.hook")
    assert info["title"] == "山间茶舍 · 在线客服"
    assert info["language"] == "zh"
    assert missing.status_code == 404


async def test_websocket_from_a_foreign_origin_is_refused(base_url: str) -> None:
    async with visitor_client(base_url) as client:
        cookie = f"{VISITOR_COOKIE}={client.cookies[VISITOR_COOKIE]}"
        ws_url = base_url.replace("http", "ws", 1) + CHAT + "/ws"
        headers = {"Cookie": cookie, "Origin": "https://evil.example"}
        with pytest.raises(InvalidStatus):
            async with connect(ws_url, additional_headers=headers):
                pass


async def test_page_carries_a_content_security_policy(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        page = await client.get(CHAT)
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_post_with_text_that_cannot_be_stored_is_a_400(base_url: str) -> None:
    # Issue 13, defect 2: a lone surrogate in the JSON was a 500.
    async with visitor_client(base_url) as client:
        responses = [
            await client.post(CHAT + "/messages", content=body)
            for body in (
                b'{"text":"\\ud800","client_id":"s1"}',
                b'{"text":"hi","client_id":"\\udc00"}',
                b'{"text":"a\\u0000b"}',
            )
        ]
        history = (await client.get(CHAT + "/history")).json()["messages"]

    assert [r.status_code for r in responses] == [400, 400, 400]
    assert {r.json()["error"]["code"] for r in responses} == {"invalid_text"}
    assert history == []


async def test_websocket_closes_with_1007_on_text_that_cannot_be_stored(base_url: str) -> None:
    # Issue 13, defect 2: the socket dropped without a close frame.
    async with visitor_client(base_url) as client:
        cookie = f"{VISITOR_COOKIE}={client.cookies[VISITOR_COOKIE]}"
        ws_url = base_url.replace("http", "ws", 1) + CHAT + "/ws"
        async with connect(ws_url, additional_headers={"Cookie": cookie}) as socket:
            await socket.send('{"type":"message","text":"\\ud800","client_id":"s2"}')
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()

    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1007, "invalid_text")


async def test_websocket_closes_with_1003_on_a_binary_frame(base_url: str) -> None:
    async with visitor_client(base_url) as client:
        cookie = f"{VISITOR_COOKIE}={client.cookies[VISITOR_COOKIE]}"
        ws_url = base_url.replace("http", "ws", 1) + CHAT + "/ws"
        async with connect(ws_url, additional_headers={"Cookie": cookie}) as socket:
            await socket.send(b'{"type":"message","text":"hi"}')
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1003
