"""Rate limits on the public endpoints: 429 with Retry-After, per visitor and per address.

Limits are set low through the settings (``KINDBOT_RATE_LIMIT_<NAME>``) so
each test reaches them quickly; counters are in process, or in Redis shared by
two containers (two servers) when ``KINDBOT_TEST_REDIS_URL`` is set (skipped
with the reason locally, a failure on CI).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from limits import parse
from sqlalchemy import text
from tests.support.api import HOOK_SECRET, bearer, error_of
from tests.support.clock import FakeClock
from tests.support.databases import REDIS_ENV, require_env
from tests.support.live import live_server
from tests.support.tenants import apply_approved
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from kindbot.bootstrap import Container, open_container
from kindbot.channels import webchat
from kindbot.channels.webhook import SIGNATURE_HEADER, sign
from kindbot.core.errors import KindbotError
from kindbot.pipeline.receive.rate_limits import DEFAULTS, RateLimiter, RateLimits
from kindbot.settings import Settings
from kindbot.web.app import build_app

CHAT = "/chat/teashop.web"
LIMITS = (
    ("webchat_visitor", "3/minute"),
    ("webchat_address", "6/minute"),
    ("webchat_connect", "2/minute"),
    ("webchat_new_visitor", "3/hour"),
    ("webhook", "3/minute"),
    ("wechat", "2/minute"),
    ("auth_failure", "5/minute"),
)


@pytest.fixture
def container_backend() -> str:
    return "sqlite"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, rate_limits=LIMITS)


@asynccontextmanager
async def client_from(container: Container, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``container``'s app whose requests come from ``address``."""
    transport = httpx.ASGITransport(app=build_app(container), client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def post_chat(http: httpx.AsyncClient, visitor: str, text: str) -> httpx.Response:
    return await http.post(
        f"{CHAT}/messages",
        json={"text": text, "client_id": uuid.uuid4().hex},
        headers={"Cookie": f"{webchat.VISITOR_COOKIE}={visitor}"},
    )


def assert_rate_limited(response: httpx.Response) -> int:
    error_of(response, 429, "rate_limited")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 3600
    return retry_after


async def contacts_of(container: Container) -> int:
    async with container.store.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM contacts"))).scalar_one())


async def test_a_flooding_visitor_is_throttled_and_the_shop_answers_another(
    container: Container,
) -> None:
    flooder, other = webchat.new_visitor_id(), webchat.new_visitor_id()
    async with client_from(container, "10.0.0.1") as a, client_from(container, "10.0.0.2") as b:
        for n in range(3):
            assert (await post_chat(a, flooder, f"运费 {n}")).status_code == 200
        assert_rate_limited(await post_chat(a, flooder, "运费?"))
        answered = await post_chat(b, other, "运费怎么算")
    assert answered.status_code == 200
    messages = answered.json()["messages"]
    assert [m["direction"] for m in messages][:2] == ["inbound", "outbound"]


async def test_one_address_is_limited_across_visitors(container: Container) -> None:
    async with client_from(container, "10.0.1.1") as a, client_from(container, "10.0.1.2") as b:
        visitors = [webchat.new_visitor_id() for _ in range(3)]
        for visitor in visitors:
            for _ in range(2):
                assert (await post_chat(a, visitor, "你好")).status_code == 200
        assert_rate_limited(await post_chat(a, visitors[0], "你好"))
        assert (await post_chat(b, webchat.new_visitor_id(), "你好")).status_code == 200


async def test_new_visitor_ids_from_one_address_stop_creating_contacts(
    container: Container,
) -> None:
    before = await contacts_of(container)
    async with client_from(container, "10.0.2.1") as a, client_from(container, "10.0.2.2") as b:
        known = webchat.new_visitor_id()
        assert (await post_chat(a, known, "你好")).status_code == 200
        for _ in range(2):
            assert (await post_chat(a, webchat.new_visitor_id(), "你好")).status_code == 200
        assert_rate_limited(await post_chat(a, webchat.new_visitor_id(), "你好"))
        assert await contacts_of(container) == before + 3
        assert (await post_chat(a, known, "还在吗")).status_code == 200  # not new
        assert (await post_chat(b, webchat.new_visitor_id(), "你好")).status_code == 200
    assert await contacts_of(container) == before + 4


def webhook_body(user: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"user": user, "text": "运费", "id": uuid.uuid4().hex}).encode()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(HOOK_SECRET, body)}


async def send_webhook(http: httpx.AsyncClient, user: str) -> httpx.Response:
    body, headers = webhook_body(user)
    return await http.post("/channels/teashop.hook/callback", content=body, headers=headers)


async def test_webhook_callbacks_are_limited_per_channel_and_address(
    container: Container,
) -> None:
    async with client_from(container, "10.0.3.1") as a, client_from(container, "10.0.3.2") as b:
        for n in range(3):
            assert (await send_webhook(a, f"u{n}")).status_code == 200
        assert_rate_limited(await send_webhook(a, "u9"))
        assert (await send_webhook(b, "u9")).status_code == 200


async def test_wechat_callbacks_are_limited_per_channel_and_address(
    container: Container, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "bundle.yaml"
    path.write_text(
        "tenant: {slug: oashop, name: OA Shop, industry: retail}\n"
        "channels:\n"
        "  - {id: oa, type: wechat_oa, app_id: wx0123456789abcdef,"
        " app_secret: s3cret0123456789abcdef,"
        " token: tok123, encoding_aes_key: " + "a" * 43 + ", mode: plain}\n",
        encoding="utf-8",
    )
    await apply_approved(container, path, clock.now())
    url = "/channels/oashop.oa/callback"
    async with client_from(container, "10.0.4.1") as a, client_from(container, "10.0.4.2") as b:
        for _ in range(2):
            assert (await a.get(url, params={"echostr": "x"})).status_code == 403
        assert_rate_limited(await a.post(url, content=b"<xml/>"))
        assert (await b.get(url, params={"echostr": "x"})).status_code == 403


async def test_failed_authentications_lock_out_the_address_before_the_token_is_checked(
    container: Container,
) -> None:
    admin = bearer(container.admin_token)
    async with client_from(container, "10.0.5.1") as a, client_from(container, "10.0.5.2") as b:
        for n in range(5):
            error_of(
                await a.get("/api/v1/tenants", headers=bearer(f"wrong{n}")), 401, "unauthorized"
            )
        assert_rate_limited(await a.get("/api/v1/tenants", headers=bearer("wrong")))
        assert_rate_limited(await a.get("/api/v1/tenants", headers=admin))
        assert (await b.get("/api/v1/tenants", headers=admin)).status_code == 200


async def test_websocket_frames_and_connections_are_limited_and_the_server_stays_up(
    container: Container,
) -> None:
    async with live_server(container) as base_url:
        ws_url = base_url.replace("http", "ws", 1) + CHAT + "/ws"
        cookie = {"Cookie": f"{webchat.VISITOR_COOKIE}={webchat.new_visitor_id()}"}
        async with connect(ws_url, additional_headers=cookie) as socket, asyncio.timeout(10):
            for n in range(3):
                frame = {"type": "message", "text": "你好", "client_id": str(n)}
                await socket.send(json.dumps(frame))
                echo = json.loads(await socket.recv())
                assert echo["type"] == "message"
                json.loads(await socket.recv())  # the reply
            await socket.send(json.dumps({"type": "message", "text": "你好", "client_id": "x"}))
            refused = json.loads(await socket.recv())
            assert (refused["type"], refused["code"]) == ("error", "rate_limited")
            await socket.ping()  # still open
        async with connect(ws_url, additional_headers=cookie):
            pass  # the second connection: the last the limit (2) allows
        async with connect(ws_url, additional_headers=cookie) as socket, asyncio.timeout(10):
            frame = json.loads(await socket.recv())
            assert (frame["code"], frame["retry_after"] >= 1) == ("rate_limited", True)
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "rate_limited")
        async with httpx.AsyncClient(base_url=base_url) as http:
            assert (await http.get("/healthz")).status_code == 200


def test_limits_are_configurable_and_can_be_turned_off(settings: Settings) -> None:
    limits = RateLimits.from_settings(replace(settings, rate_limits=(("webhook", "off"),)))
    assert limits.get("webhook") is None
    assert {name for name, _ in limits.items} == set(DEFAULTS) - {"webhook"}
    assert RateLimits.from_settings(replace(settings, rate_limits_enabled=False)).items == ()
    env = Settings.from_env({"KINDBOT_RATE_LIMIT_WEBCHAT_VISITOR": "5 per second"})
    limit = RateLimits.from_settings(env).get("webchat_visitor")
    assert limit is not None
    assert limit.amount == 5
    for bad in ((("nonsense", "1/minute"),), (("webhook", "lots"),)):
        with pytest.raises(KindbotError) as raised:
            RateLimits.from_settings(replace(settings, rate_limits=bad))
        assert "KINDBOT_RATE_LIMIT_" in raised.value.message


@pytest.fixture
async def two_servers(
    settings: Settings, clock: FakeClock, container: Container
) -> AsyncIterator[tuple[Container, Container]]:
    """Two containers (two servers) on one database and one Redis."""
    shared = replace(
        settings,
        redis_url=require_env(REDIS_ENV),
        database_url=container.database_url,
    )
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(open_container(shared, clock=clock))
        second = await stack.enter_async_context(open_container(shared, clock=clock))
        yield first, second


async def test_redis_counters_are_shared_by_every_server(
    two_servers: tuple[Container, Container],
) -> None:
    first, second = two_servers
    address = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    user = uuid.uuid4().hex
    async with client_from(first, address) as a, client_from(second, address) as b:
        assert (await send_webhook(a, user)).status_code == 200
        assert (await send_webhook(b, user)).status_code == 200
        assert (await send_webhook(a, user)).status_code == 200
        assert_rate_limited(await send_webhook(b, user))
        assert_rate_limited(await send_webhook(a, user))
        flooder = webchat.new_visitor_id()
        for _ in range(3):
            assert (await post_chat(b, flooder, "你好")).status_code == 200
        assert_rate_limited(await post_chat(a, flooder, "你好"))
    async with client_from(second, f"10.8.{uuid.uuid4().int % 250}.1") as c:
        assert (await send_webhook(c, user)).status_code == 200


async def test_an_unreachable_redis_lets_requests_through_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limits = RateLimits((("webhook", parse("1/minute")),))
    limiter = RateLimiter(limits, "redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        for _ in range(3):
            await limiter.hit("webhook", "shop.hook", "10.0.0.1")
    finally:
        await limiter.aclose()
    assert "counters unavailable" in caplog.text
