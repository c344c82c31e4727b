"""Fuzzing every public endpoint over HTTP and WebSocket, in process (issue 13).

The real app on the real composition root (PostgreSQL: the strictest about
text and lengths) with the demo shop plus an Official Account and a WeCom
channel. Property: every answer is < 500; every 4xx carries a JSON error code;
nothing is logged with a traceback; a WebSocket frame gets a message frame, an
error frame with a code, or a close frame with a code and reason — never a
dropped connection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from kindbot.bootstrap import Container
from kindbot.channels.webchat import VISITOR_COOKIE
from kindbot.channels.webhook import SIGNATURE_HEADER, sign
from kindbot.channels.wechat.crypto import sha1_signature
from kindbot.channels.wechat.xmlcodec import render_fields
from kindbot.settings import Settings
from kindbot.testing.wechat_api import WeChatSimulator
from kindbot.web.app import build_app
from tests.fuzz.strategies import AES, ciphertexts, json_bodies, xml_bodies
from tests.fuzz.support import FUZZ_HTTP, nasty_text
from tests.support.clock import FakeClock
from tests.support.live import serve_app
from tests.support.tenants import apply_approved

HOOK_SECRET = "demo-webhook-secret-change-me"
TOKEN = "fuzztoken"
APP_ID = "wx0123456789abcdef"
CORP = "ww0123456789abcdef"
CHAT = "/chat/teashop.web"
CHANNELS = ["teashop.hook", "teashop.web", "fuzz.oa", "fuzz.wecom", "nobody.x"]


@pytest.fixture
def container_backend() -> str:
    return "postgres"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Without rate limits: the fuzzers reach the parsers on every example (the limits
    have their own tests in tests/e2e/test_rate_limits.py)."""
    return replace(settings, rate_limits_enabled=False)


@dataclass
class Public:
    """A stranger's view of kindbot: an HTTP client holding a visitor cookie."""

    http: httpx.AsyncClient
    base_url: str
    clock: FakeClock
    caplog: pytest.LogCaptureFixture

    @property
    def now(self) -> str:
        return str(int(self.clock.now().timestamp()))

    async def check(self, response: httpx.Response) -> None:
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert response.json()["error"]["code"]
        tracebacks = [r for r in self.caplog.records if r.exc_info]
        assert not tracebacks, tracebacks[0].getMessage()


def _bundle(tmp_path: Path, api_base: str) -> Path:
    (tmp_path / "faq.csv").write_text("question,answer\n运费怎么算,满99元包邮\n", encoding="utf-8")
    path = tmp_path / "bundle.yaml"
    path.write_text(
        "tenant: {slug: fuzz, name: Fuzz Shop, industry: retail}\n"
        "channels:\n"
        f"  - {{id: oa, type: wechat_oa, app_id: {APP_ID}, app_secret: s0123456789abcdef,"
        f" token: {TOKEN}, encoding_aes_key: {AES}, mode: compatible, api_base: '{api_base}'}}\n"
        f"  - {{id: wecom, type: wecom, corp_id: {CORP}, agent_id: 1000002,"
        f" secret: s0123456789abcdef, token: {TOKEN}, encoding_aes_key: {AES},"
        f" api_base: '{api_base}', open_kfid: wkFuzz}}\n"
        "knowledge: [{file: faq.csv}]\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def public(
    container: Container, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Public]:
    caplog.set_level(logging.INFO)
    sim = WeChatSimulator(clock=lambda: clock.now().timestamp())
    sim.add_oa_app(APP_ID, "s0123456789abcdef")
    sim.add_wecom_corp(CORP, "s0123456789abcdef")
    sim.add_kf_account(CORP, "wkFuzz")
    async with serve_app(sim.app) as api_base:
        await apply_approved(container, _bundle(tmp_path, api_base), clock.now())
        async with serve_app(build_app(container)) as base_url:
            transport = httpx.ASGITransport(app=build_app(container))
            async with httpx.AsyncClient(transport=transport, base_url="http://kindbot") as http:
                assert (await http.get(CHAT)).status_code == 200
                yield Public(http, base_url, clock, caplog)
        await sim.aclose()


@FUZZ_HTTP
@given(body=json_bodies(), target=st.sampled_from(["signed", "unsigned", "webchat"]))
async def test_json_endpoints(public: Public, body: bytes, target: str) -> None:
    """The webhook callback (signed with the channel secret, or not) and the web-chat POST."""
    if target == "webchat":
        response = await public.http.post(CHAT + "/messages", content=body)
    else:
        headers = {SIGNATURE_HEADER: sign(HOOK_SECRET, body)} if target == "signed" else {}
        response = await public.http.post(
            "/channels/teashop.hook/callback", content=body, headers=headers
        )
    await public.check(response)


@FUZZ_HTTP
@given(
    body=xml_bodies(),
    oa_ciphertext=ciphertexts(APP_ID),
    wecom_ciphertext=ciphertexts(CORP),
    target=st.sampled_from(["oa-plain", "oa-aes", "wecom-xml", "wecom-json"]),
)
async def test_wechat_callbacks(
    public: Public, body: bytes, oa_ciphertext: str, wecom_ciphertext: str, target: str
) -> None:
    """Official Account (plain and encrypted) and WeCom (XML and JSON envelopes), signed."""
    if target.startswith("oa"):
        await public.check(await _oa_callback(public, body, oa_ciphertext, target == "oa-aes"))
    else:
        await public.check(await _wecom_callback(public, wecom_ciphertext, target == "wecom-json"))


async def _oa_callback(
    public: Public, body: bytes, ciphertext: str, encrypted: bool
) -> httpx.Response:
    ts, nonce = public.now, "1234"
    query = {"timestamp": ts, "nonce": nonce, "signature": sha1_signature(TOKEN, ts, nonce)}
    if encrypted:
        body = render_fields([("ToUserName", "gh_x"), ("Encrypt", ciphertext)]).encode()
        signature = sha1_signature(TOKEN, ts, nonce, ciphertext)
        query |= {"encrypt_type": "aes", "msg_signature": signature}
    return await public.http.post("/channels/fuzz.oa/callback", params=query, content=body)


async def _wecom_callback(public: Public, ciphertext: str, as_json: bool) -> httpx.Response:
    ts, nonce = public.now, "1234"
    if as_json:
        body = json.dumps({"tousername": CORP, "encrypt": ciphertext}).encode()
    else:
        body = render_fields([("ToUserName", CORP), ("Encrypt", ciphertext)]).encode()
    signature = sha1_signature(TOKEN, ts, nonce, ciphertext)
    query = {"timestamp": ts, "nonce": nonce, "msg_signature": signature}
    return await public.http.post("/channels/fuzz.wecom/callback", params=query, content=body)


def _escaped(text: str) -> str:
    """``text`` percent-encoded as UTF-8, lone surrogates included (as a raw client could)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


query_values = st.one_of(nasty_text, st.sampled_from(["0" * 65, "1764064800", "aes", "raw"]))
queries = st.dictionaries(
    st.sampled_from(
        ["signature", "msg_signature", "timestamp", "nonce", "echostr", "encrypt_type"]
    ),
    query_values,
    max_size=6,
)


@FUZZ_HTTP
@given(
    channel=st.one_of(st.sampled_from(CHANNELS), nasty_text),
    suffix=st.sampled_from(["", "/info", "/history", "/messages", "/callback"]),
    prefix=st.sampled_from(["/chat/", "/channels/"]),
    method=st.sampled_from(["GET", "POST"]),
    query=queries,
    cookie=st.one_of(st.none(), nasty_text, st.sampled_from(["a" * 16, "a" * 65, "-_" * 10])),
)
@example(channel="a\x00b", suffix="", prefix="/chat/", method="GET", query={}, cookie=None)
@example(
    channel="fuzz.oa",
    suffix="/callback",
    prefix="/channels/",
    method="POST",
    query={"nonce": "\x00", "timestamp": "1764064800", "signature": "0"},
    cookie=None,
)
async def test_public_paths(
    public: Public,
    channel: str,
    suffix: str,
    prefix: str,
    method: str,
    query: dict[str, str],
    cookie: str | None,
) -> None:
    path = prefix + _escaped(channel) + suffix
    if query:
        path += "?" + "&".join(f"{name}={_escaped(value)}" for name, value in query.items())
    headers = {"Cookie": f"{VISITOR_COOKIE}={_escaped(cookie)}"} if cookie else {}
    response = await public.http.request(
        method, path, headers=headers, content=b"{}" if method == "POST" else None
    )
    await public.check(response)
    await public.check(await public.http.get("/healthz"))


async def _open_socket(public: Public) -> ClientConnection:
    cookie = f"{VISITOR_COOKIE}={public.http.cookies[VISITOR_COOKIE]}"
    url = public.base_url.replace("http", "ws", 1) + CHAT + "/ws"
    return await connect(url, additional_headers={"Cookie": cookie})


frames = st.one_of(
    json_bodies().map(lambda b: b.decode("utf-8", "replace")),
    nasty_text.map(lambda t: t.encode("utf-8", "replace").decode()),
    st.binary(max_size=64),
)


@FUZZ_HTTP
@given(frame=frames)
async def test_websocket_frames(public: Public, frame: str | bytes) -> None:
    socket = await _open_socket(public)
    answer: dict[str, str] | None = None
    closed: ConnectionClosed | None = None
    try:
        await socket.send(frame)
        answer = json.loads(await socket.recv())
    except ConnectionClosed as exc:
        closed = exc
    finally:
        await socket.close()
    if answer is not None:
        assert answer["type"] in ("message", "error")
        assert answer["type"] == "message" or answer["code"]
    else:
        assert closed is not None
        assert closed.rcvd is not None, "dropped without a close frame"
        assert closed.rcvd.code in (1003, 1007), closed.rcvd
        assert closed.rcvd.reason
    tracebacks = [r for r in public.caplog.records if r.exc_info]
    assert not tracebacks, tracebacks[0].getMessage()
